//! The demo's accounts and sessions: argon2id password hashes, random session tokens in an
//! HttpOnly SameSite=Lax cookie (only their SHA-256 is stored), sign-up, sign-in (rotating the
//! session), sign-out (one session or all). Every session that ends is told to the chat, which
//! closes the connections opened with it on every instance.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use parley::model::User;
use parley::server::{Chat, HostUser, ServerError};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::db;
use crate::model::{LoginInput, Password, SignupInput};

/// The session cookie's name over plain http (development, loopback).
pub const SESSION_COOKIE: &str = "parley_session";
/// Its name over https: the `__Host-` prefix makes browsers refuse it unless it is `Secure`,
/// has `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-parley_session";

/// Longest cookie value we bother to look up (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// How the demo's sessions behave.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// Mark the cookie `Secure` and name it `__Host-…` (the public origin is https).
    pub secure_cookies: bool,
    /// How long a session lives without signing in again.
    pub session_ttl: Duration,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

/// The demo's account store: its pool and settings. Cheap to clone; also the identity the chat
/// asks (`server::identity`).
#[derive(Clone)]
pub struct Accounts {
    pub pool: PgPool,
    pub settings: Arc<AccountSettings>,
}

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

/// How a session is named to the chat (and on its bus): base64url of the token's SHA-256.
pub fn session_name(token_hash: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(token_hash)
}

/// Reads a session name back (see [`session_name`]).
pub fn session_hash(name: &str) -> Option<[u8; 32]> {
    URL_SAFE_NO_PAD.decode(name).ok()?.try_into().ok()
}

/// An account as the chat sees it: its id (the chat's `external_id`) and names.
pub fn person(account: &db::Account) -> HostUser {
    HostUser {
        external_id: account.id.to_string(),
        username: Some(account.username.clone()),
        display_name: account.display_name.clone(),
    }
}

/// A person who has just signed in (or up), as the chat knows them, and the `Set-Cookie` value
/// that holds their session.
pub struct SignedIn {
    pub user: User,
    pub cookie: HeaderValue,
}

/// A request's live session.
pub struct Session {
    pub account: db::Account,
    pub token_hash: [u8; 32],
    pub expires_at: DateTime<Utc>,
}

impl Accounts {
    pub fn new(pool: PgPool, settings: AccountSettings) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
        }
    }

    /// The session cookie's name under these settings.
    pub fn cookie_name(&self) -> &'static str {
        if self.settings.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// Signs up from `address`. The name is checked before the password is hashed (a taken
    /// name costs a lookup, not a hash); sign-ups per address are limited. A session the
    /// request already carries is ended (a new session, never a reused one).
    pub async fn sign_up(
        &self,
        chat: &Chat,
        input: &SignupInput,
        address: IpAddr,
        headers: &HeaderMap,
    ) -> Result<SignedIn, ServerError> {
        let valid = input.parse()?;
        chat.limits.sign_up(address)?;
        if db::username_taken(&self.pool, valid.username.as_str()).await? {
            return Err(ServerError::UsernameTaken);
        }
        let hash = {
            let _turn = chat.limits.hash_turn().await?;
            hash_password(valid.password).await?
        };
        let account = db::insert_account(
            &self.pool,
            Uuid::new_v4(),
            valid.username.as_str(),
            valid.display_name.as_str(),
            &hash,
        )
        .await
        .map_err(db::account_error)?;
        tracing::info!(account_id = %account.id, "signed up");
        self.start_session(chat, &account, headers).await
    }

    /// Signs in from `address`. Failed attempts are limited per address and per address and
    /// username; successful ones are not (an office behind one address signs in all morning).
    pub async fn sign_in(
        &self,
        chat: &Chat,
        input: &LoginInput,
        address: IpAddr,
        headers: &HeaderMap,
    ) -> Result<SignedIn, ServerError> {
        input.check_filled()?;
        let username = input.username.trim().to_lowercase();
        if let Err(limited) = chat.limits.may_sign_in(address, &username) {
            tracing::info!(%address, "sign-in attempts limited");
            return Err(limited);
        }
        // A database failure below is not the visitor's failed guess.
        let credentials = match db::credentials(&self.pool, &username).await {
            Ok(credentials) => credentials,
            Err(e) => {
                chat.limits.sign_in_succeeded(address, &username);
                return Err(e.into());
            }
        };
        // An unknown username is checked against a dummy hash, so that it costs as much time
        // as a wrong password and the response time does not reveal which usernames exist.
        let (account, hash) = match credentials {
            Some(c) => (Some(c.account), Some(c.password_hash)),
            None => (None, None),
        };
        let matches = {
            let _turn = chat.limits.hash_turn().await?;
            verify_password(input.password.clone(), hash).await?
        };
        match account {
            Some(account) if matches => {
                chat.limits.sign_in_succeeded(address, &username);
                self.start_session(chat, &account, headers).await
            }
            // The attempt reserved above stays counted.
            _ => Err(ServerError::InvalidCredentials),
        }
    }

    /// Deletes the request's session (if any), has the chat close its connections on every
    /// instance, and returns the `Set-Cookie` value that clears the cookie.
    pub async fn sign_out(
        &self,
        chat: &Chat,
        headers: &HeaderMap,
    ) -> Result<HeaderValue, ServerError> {
        if let Some(token) = self.token_from_headers(headers) {
            self.end_session(chat, &token.hash()).await?;
        }
        self.removal_cookie()
    }

    /// Ends every session of the request's account ("Sign out everywhere"), closing all their
    /// connections on every instance.
    pub async fn sign_out_everywhere(
        &self,
        chat: &Chat,
        headers: &HeaderMap,
    ) -> Result<HeaderValue, ServerError> {
        let session = self
            .session(headers)
            .await?
            .ok_or(ServerError::Unauthenticated)?;
        let ended = db::delete_sessions_of(&self.pool, session.account.id).await?;
        chat.end_session(&session.account.id.to_string(), None)
            .await?;
        tracing::info!(account_id = %session.account.id, ended, "signed out everywhere");
        self.removal_cookie()
    }

    /// Deletes one session and has the chat close its connections. (Deleted first: a socket
    /// registering in between asks `session_valid` and finds it gone.)
    async fn end_session(&self, chat: &Chat, token_hash: &[u8; 32]) -> Result<(), ServerError> {
        if let Some(account_id) = db::delete_session(&self.pool, token_hash).await? {
            chat.end_session(&account_id.to_string(), Some(&session_name(token_hash)))
                .await?;
        }
        Ok(())
    }

    /// The live session a request's cookie names, if any.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Option<Session>, ServerError> {
        let Some(token) = self.token_from_headers(headers) else {
            return Ok(None);
        };
        let token_hash = token.hash();
        Ok(db::live_session(&self.pool, &token_hash)
            .await?
            .map(|live| Session {
                account: live.account,
                token_hash,
                expires_at: live.expires_at,
            }))
    }

    /// Starts a new session for `account`. A session the request already carried is ended
    /// first: signing in always rotates the session (a token planted before sign-in is worth
    /// nothing).
    async fn start_session(
        &self,
        chat: &Chat,
        account: &db::Account,
        headers: &HeaderMap,
    ) -> Result<SignedIn, ServerError> {
        if let Some(old) = self.token_from_headers(headers) {
            self.end_session(chat, &old.hash()).await?;
        }
        let token = SessionToken::generate();
        let expires_at = Utc::now()
            + chrono::Duration::from_std(self.settings.session_ttl)
                .map_err(|e| ServerError::Internal(format!("session lifetime: {e}")))?;
        db::insert_session(&self.pool, &token.hash(), account.id, expires_at).await?;
        let cookie = self.session_cookie(&token)?;
        // The chat knows the person from now on (their id is what the pages pass around).
        let user = chat.upsert_user(&person(account)).await?;
        Ok(SignedIn { user, cookie })
    }

    fn session_cookie(&self, token: &SessionToken) -> Result<HeaderValue, ServerError> {
        let max_age = cookie::time::Duration::seconds(self.settings.session_ttl.as_secs() as i64);
        self.cookie_header(Cookie::build((self.cookie_name(), token.0.clone())).max_age(max_age))
    }

    fn removal_cookie(&self) -> Result<HeaderValue, ServerError> {
        let expired = cookie::time::Duration::ZERO;
        self.cookie_header(Cookie::build((self.cookie_name(), "")).max_age(expired))
    }

    fn cookie_header(
        &self,
        builder: cookie::CookieBuilder<'static>,
    ) -> Result<HeaderValue, ServerError> {
        let cookie = builder
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.settings.secure_cookies)
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .map_err(|e| ServerError::Internal(format!("session cookie header: {e}")))
    }

    fn token_from_headers(&self, headers: &HeaderMap) -> Option<SessionToken> {
        let name = self.cookie_name();
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
}

/// Hashes a password off the async workers. Requests take a hashing turn first (one per core;
/// `parley::server::limits`); seeding at start-up does not need to.
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

/// Checks `password` against `hash`, or against a dummy hash when there is no account.
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

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(cookie: HeaderValue, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().append(SET_COOKIE, cookie);
    response
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

    fn accounts(secure_cookies: bool) -> Option<Accounts> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://unused")
            .ok()?;
        Some(Accounts::new(
            pool,
            AccountSettings {
                secure_cookies,
                ..AccountSettings::default()
            },
        ))
    }

    #[tokio::test]
    async fn session_cookie_is_http_only_and_lax() {
        let token = SessionToken::generate();
        let Some(plain) = accounts(false) else {
            panic!("lazy pool")
        };
        let Ok(Ok(text)) = plain
            .session_cookie(&token)
            .map(|v| v.to_str().map(str::to_owned))
        else {
            panic!("cookie header")
        };
        assert!(text.starts_with("parley_session="));
        assert!(text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax"));
        assert!(!text.contains("Secure"));
        let Some(secure) = accounts(true) else {
            panic!("lazy pool")
        };
        let Ok(Ok(text)) = secure
            .session_cookie(&token)
            .map(|v| v.to_str().map(str::to_owned))
        else {
            panic!("cookie header")
        };
        assert!(text.starts_with("__Host-parley_session="));
        assert!(text.contains("Secure"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(a.0, b.0);
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash(), a.0.as_bytes());
        assert_eq!(session_hash(&session_name(&a.hash())), Some(a.hash()));
    }

    #[test]
    fn next_parameter_is_encoded() {
        assert_eq!(
            encode_query_value("/chat/abc?x=1&y", b"/"),
            "/chat/abc%3Fx%3D1%26y"
        );
    }
}
