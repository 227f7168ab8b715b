//! The host's sessions: who may start one (one of the people, with the shared password) and who
//! holds one (a random token in the `minimal_session` cookie, HttpOnly and SameSite=Lax, mapped
//! in memory to the person and to a public name the chat knows the session by). Uses `people`
//! and the chat's `ServerError`; nothing else of the chat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, Utc};
use cookie::{Cookie, SameSite};
use digest::CtOutput;
use parley::server::ServerError;
use sha2::{Digest, Sha256};

use crate::people::Person;

pub const COOKIE_NAME: &str = "minimal_session";

/// How long a session lasts without signing in again.
const LIFETIME_HOURS: i64 = 12;

/// A signed-in person. `name` is what the chat hears (never the token itself).
#[derive(Debug, Clone)]
pub struct Session {
    pub person: &'static Person,
    pub name: String,
    pub expires_at: DateTime<Utc>,
}

/// The shared password's digest and every live session. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    password: CtOutput<Sha256>,
    secure_cookies: bool,
    /// By token. In memory: this host is one process and its people sign in again after a
    /// restart; a host with several instances keeps sessions in its database. A std `Mutex`
    /// because no `.await` is ever held across it (each use is one map operation).
    by_token: Arc<Mutex<HashMap<String, Session>>>,
}

impl Sessions {
    /// `secure_cookies`: the site is served over https (the chat's `Settings` say so).
    pub fn new(password: &str, secure_cookies: bool) -> Self {
        Self {
            password: CtOutput::new(Sha256::digest(password)),
            secure_cookies,
            by_token: Arc::default(),
        }
    }

    /// Compares digests in constant time: the time taken tells nothing about a guess.
    pub fn password_matches(&self, password: &str) -> bool {
        CtOutput::new(Sha256::digest(password)) == self.password
    }

    /// A new session for `person`, and the token its cookie holds. Expired sessions go now.
    pub fn start(&self, person: &'static Person) -> Result<(String, Session), ServerError> {
        let token = random_hex::<32>()?;
        let session = Session {
            person,
            name: random_hex::<16>()?,
            expires_at: Utc::now() + Duration::hours(LIFETIME_HOURS),
        };
        let mut sessions = self.lock();
        let now = Utc::now();
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(token.clone(), session.clone());
        Ok((token, session))
    }

    /// The live session a request's cookie names.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let token = token(headers)?;
        let session = self.lock().get(&token).cloned()?;
        (session.expires_at > Utc::now()).then_some(session)
    }

    /// Removes the session a request's cookie names, and returns it.
    pub fn end(&self, headers: &HeaderMap) -> Option<Session> {
        self.lock().remove(&token(headers)?)
    }

    /// Whether the session the chat knows as `name` is live. (A scan: asked only when a
    /// realtime connection starts, and there are few sessions here.)
    pub fn is_live(&self, name: &str) -> bool {
        let now = Utc::now();
        self.lock()
            .values()
            .any(|s| s.name == name && s.expires_at > now)
    }

    /// The `Set-Cookie` value that holds `token`.
    pub fn cookie(&self, token: &str) -> Result<HeaderValue, ServerError> {
        let max_age = cookie::time::Duration::hours(LIFETIME_HOURS);
        self.header(Cookie::build((COOKIE_NAME, token.to_owned())).max_age(max_age))
    }

    /// The `Set-Cookie` value that clears the cookie.
    pub fn removal_cookie(&self) -> Result<HeaderValue, ServerError> {
        self.header(Cookie::build((COOKIE_NAME, "")).max_age(cookie::time::Duration::ZERO))
    }

    fn header(&self, cookie: cookie::CookieBuilder<'static>) -> Result<HeaderValue, ServerError> {
        let cookie = cookie
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .map_err(|e| ServerError::Internal(format!("session cookie: {e}")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // Nothing panics while holding the lock, so a poisoned map is still whole.
        self.by_token.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `N` bytes from the operating system's random generator, in hex.
fn random_hex<const N: usize>() -> Result<String, ServerError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ServerError::Internal(format!("random session token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The session token a request's cookie holds.
fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}
