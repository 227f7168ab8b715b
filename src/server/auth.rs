//! Accounts and sessions: argon2id password hashes, random session tokens in an HttpOnly
//! SameSite=Lax cookie (only their SHA-256 is stored), and the extractors and middleware that
//! turn a request's cookie into the signed-in user. The user always comes from the session,
//! never from a URL or a body.

use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::db;
use super::error::ServerError;
use super::realtime::hub::Holder;
use super::realtime::Notice;
use super::state::{AppState, Settings};
use crate::model::{LoginInput, Password, SignupInput, User};

/// The session cookie's name over plain http (development, loopback).
pub const SESSION_COOKIE: &str = "parley_session";
/// Its name over https: the `__Host-` prefix makes browsers refuse it unless it is `Secure`,
/// has `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-parley_session";

/// The session cookie's name under these settings.
pub fn session_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Longest cookie value we bother to look up (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// A session token as the browser holds it. Not `Debug`: it is a bearer secret.
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// A user who has just signed in (or up), and the `Set-Cookie` value that holds their session.
pub struct SignedIn {
    pub user: User,
    pub cookie: HeaderValue,
}

/// A request's live session.
pub struct Session {
    pub user: User,
    /// SHA-256 of the token: how the session is named in the database and on the bus.
    pub token_hash: [u8; 32],
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// Who holds a connection opened with this session.
    pub fn holder(&self) -> Holder {
        Holder {
            user_id: self.user.id,
            session: Some(self.token_hash),
        }
    }
}

/// Signs up from `address`. The name is checked before the password is hashed (a taken
/// name costs a lookup, not a hash); sign-ups per address are limited. `headers` are the
/// request's: a session it already carries is ended (a new session, never a reused one).
pub async fn sign_up(
    state: &AppState,
    input: &SignupInput,
    address: IpAddr,
    headers: &HeaderMap,
) -> Result<SignedIn, ServerError> {
    let valid = input.parse()?;
    state.limits.sign_up(address)?;
    if db::users::username_taken(&state.pool, valid.username.as_str()).await? {
        return Err(ServerError::UsernameTaken);
    }
    let hash = hash_password_bounded(state, valid.password).await?;
    let user = db::users::insert(
        &state.pool,
        Uuid::new_v4(),
        valid.username.as_str(),
        valid.display_name.as_str(),
        &hash,
    )
    .await?;
    tracing::info!(user_id = %user.id, "signed up");
    start_session(state, user, headers).await
}

/// Signs in from `address`. Failed attempts are limited per address and per address and
/// username; successful ones are not (an office behind one address signs in all morning).
pub async fn sign_in(
    state: &AppState,
    input: &LoginInput,
    address: IpAddr,
    headers: &HeaderMap,
) -> Result<SignedIn, ServerError> {
    input.check_filled()?;
    let username = input.username.trim().to_lowercase();
    if let Err(limited) = state.limits.may_sign_in(address, &username) {
        tracing::info!(%address, "sign-in attempts limited");
        return Err(limited);
    }
    // A database failure below is not the visitor's failed guess.
    let credentials = match db::users::credentials(&state.pool, &username).await {
        Ok(credentials) => credentials,
        Err(e) => {
            state.limits.sign_in_succeeded(address, &username);
            return Err(e.into());
        }
    };
    // An unknown username is checked against a dummy hash, so that it costs as much time as a
    // wrong password and the response time does not reveal which usernames exist.
    let (user, hash) = match credentials {
        Some(c) => (Some(c.user), Some(c.password_hash)),
        None => (None, None),
    };
    let matches = {
        let _turn = state.limits.hash_turn().await?;
        verify_password(input.password.clone(), hash).await?
    };
    match user {
        Some(user) if matches => {
            state.limits.sign_in_succeeded(address, &username);
            start_session(state, user, headers).await
        }
        // The attempt reserved above stays counted.
        _ => Err(ServerError::InvalidCredentials),
    }
}

/// Deletes the request's session (if any), closes its WebSockets and event streams on every
/// instance, and returns the `Set-Cookie` value that clears the cookie.
pub async fn sign_out(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, ServerError> {
    if let Some(token) = token_from_headers(&state.settings, headers) {
        end_session(state, &token.hash()).await?;
    }
    removal_cookie(&state.settings)
}

/// Ends every session of `user` ("Sign out everywhere"), closing all their connections on
/// every instance.
pub async fn sign_out_everywhere(
    state: &AppState,
    user: &User,
) -> Result<HeaderValue, ServerError> {
    let mut tx = state.pool.begin().await?;
    let ended = db::sessions::delete_all_of(&mut *tx, user.id).await?;
    Notice::SessionEnded {
        u: user.id,
        s: None,
    }
    .publish(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, ended, "signed out everywhere");
    removal_cookie(&state.settings)
}

/// Deletes one session and tells every instance to close its connections.
async fn end_session(state: &AppState, token_hash: &[u8; 32]) -> Result<(), ServerError> {
    let mut tx = state.pool.begin().await?;
    if let Some(user_id) = db::sessions::delete(&mut *tx, token_hash).await? {
        Notice::SessionEnded {
            u: user_id,
            s: Some(URL_SAFE_NO_PAD.encode(token_hash)),
        }
        .publish(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reads a session name as the bus carries it.
pub fn session_from_bus(text: &str) -> Option<[u8; 32]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// The live session a request's cookie names, if any.
pub async fn session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, ServerError> {
    let Some(token) = token_from_headers(&state.settings, headers) else {
        return Ok(None);
    };
    let token_hash = token.hash();
    Ok(db::sessions::live(&state.pool, &token_hash)
        .await?
        .map(|live| Session {
            user: live.user,
            token_hash,
            expires_at: live.expires_at,
        }))
}

/// The signed-in user of a request, if its session cookie names a live session.
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, ServerError> {
    Ok(session(state, headers).await?.map(|s| s.user))
}

/// Hashes a password (at start-up: seeding). Requests use [`hash_password_bounded`].
pub async fn hash_password(password: Password) -> Result<String, ServerError> {
    // Argon2 is deliberately slow (tens of milliseconds of CPU): keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ServerError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ServerError::Internal(format!("password hashing task: {e}")))?
}

/// Hashes a password when a hashing turn is free (one per core; see `limits`).
async fn hash_password_bounded(
    state: &AppState,
    password: Password,
) -> Result<String, ServerError> {
    let _turn = state.limits.hash_turn().await?;
    hash_password(password).await
}

/// Checks `password` against `hash`, or against a dummy hash when there is no user.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ServerError> {
    static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no such user, no such password", &salt)
            .ok()
            .map(|hash| hash.to_string())
    });
    tokio::task::spawn_blocking(move || {
        let Some(hash) = hash.as_deref().or(DUMMY_HASH.as_deref()) else {
            return false;
        };
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| ServerError::Internal(format!("password check task: {e}")))
}

/// Starts a new session for `user`. A session the request already carried is ended first:
/// signing in always rotates the session (a token planted before sign-in is worth nothing).
async fn start_session(
    state: &AppState,
    user: User,
    headers: &HeaderMap,
) -> Result<SignedIn, ServerError> {
    if let Some(old) = token_from_headers(&state.settings, headers) {
        end_session(state, &old.hash()).await?;
    }
    let token = SessionToken::generate();
    let expires_at = Utc::now()
        + chrono::Duration::from_std(state.settings.session_ttl)
            .map_err(|e| ServerError::Internal(format!("session lifetime: {e}")))?;
    db::sessions::insert(&state.pool, &token.hash(), user.id, expires_at).await?;
    let cookie = session_cookie(&token, &state.settings)?;
    Ok(SignedIn { user, cookie })
}

fn session_cookie(token: &SessionToken, settings: &Settings) -> Result<HeaderValue, ServerError> {
    let max_age = cookie::time::Duration::seconds(settings.session_ttl.as_secs() as i64);
    cookie_header(
        Cookie::build((session_cookie_name(settings), token.0.clone())).max_age(max_age),
        settings,
    )
}

fn removal_cookie(settings: &Settings) -> Result<HeaderValue, ServerError> {
    let expired = cookie::time::Duration::ZERO;
    cookie_header(
        Cookie::build((session_cookie_name(settings), "")).max_age(expired),
        settings,
    )
}

fn cookie_header(
    builder: cookie::CookieBuilder<'static>,
    settings: &Settings,
) -> Result<HeaderValue, ServerError> {
    let cookie = builder
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .build();
    HeaderValue::from_str(&cookie.to_string())
        .map_err(|e| ServerError::Internal(format!("session cookie header: {e}")))
}

fn token_from_headers(settings: &Settings, headers: &HeaderMap) -> Option<SessionToken> {
    let name = session_cookie_name(settings);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value().is_empty())
        .filter(|c| c.value().len() <= MAX_TOKEN_LEN)
        .map(|c| SessionToken(c.value().to_owned()))
}

/// Refuses requests a browser sent from another site: the `Origin`, when present, must be the
/// configured public origin or the origin of the `Host` the request was sent to. (Browsers
/// always send `Origin` on WebSocket upgrades, and attach cookies even when cross-site.)
pub fn require_same_origin(settings: &Settings, headers: &HeaderMap) -> Result<(), ServerError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same_host = !host.is_empty()
        && origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| rest == host);
    if origin == settings.public_origin || same_host {
        Ok(())
    } else {
        Err(ServerError::Forbidden(
            "Requests from other sites are refused.",
        ))
    }
}

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(cookie: HeaderValue, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// The signed-in user, for JSON handlers; rejects with 401 when there is no live session.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session_user(state, &parts.headers)
            .await?
            .map(CurrentUser)
            .ok_or(ServerError::Unauthenticated)
    }
}

/// Pages only signed-in people may see.
fn is_protected_page(path: &str) -> bool {
    path == "/people" || path == "/chat" || path.starts_with("/chat/")
}

/// Sends signed-out visitors of protected pages to `/login?next=<page>` before anything renders.
pub async fn require_session_for_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || !is_protected_page(request.uri().path()) {
        return next.run(request).await;
    }
    match session_user(&state, request.headers()).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => {
            let target = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/chat");
            Redirect::to(&format!("/login?next={}", encode_query_value(target, b"/")))
                .into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// Percent-encodes a query value: everything but unreserved characters and the bytes of
/// `keep` (the sign-in redirect keeps `/` readable; a form answer keeps nothing else).
pub fn encode_query_value(value: &str, keep: &[u8]) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b if keep.contains(&b) => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_http_only_and_lax() {
        let token = SessionToken::generate();
        let cookie =
            session_cookie(&token, &Settings::default()).map(|v| v.to_str().map(str::to_owned));
        let Ok(Ok(text)) = cookie else {
            panic!("cookie header")
        };
        assert!(text.starts_with("parley_session="));
        assert!(text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax"));
        assert!(!text.contains("Secure"));
        let secure = Settings {
            secure_cookies: true,
            ..Settings::default()
        };
        let Ok(Ok(text)) = session_cookie(&token, &secure).map(|v| v.to_str().map(str::to_owned))
        else {
            panic!("cookie header")
        };
        assert!(text.contains("Secure"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(a.0, b.0);
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash(), a.0.as_bytes());
    }

    #[test]
    fn next_parameter_is_encoded() {
        assert_eq!(
            encode_query_value("/chat/abc?x=1&y", b"/"),
            "/chat/abc%3Fx%3D1%26y"
        );
    }
}
