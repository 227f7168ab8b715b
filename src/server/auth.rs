//! Who a request is: a user token (`Authorization: Bearer`, minted through the server API) or
//! else the host's identity (through the [`Identity`] seam), turned into the chat's own user;
//! and the cross-site checks every cookie-authenticated request needs. The user always comes
//! from a credential, never from a URL or a body.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use super::bus::Notice;
use super::db;
use super::error::ServerError;
use super::identity::{HostSession, HostUser};
use super::realtime::hub::Holder;
use super::state::{Chat, Settings};
use super::token::{self, Claims};
use crate::model::{DisplayName, User};
use uuid::Uuid;

/// The person behind a request, as the chat knows them, and the session they came with.
pub struct Viewer {
    pub user: User,
    /// The same person as the host named them.
    pub person: HostUser,
    /// The host's name for the session, when it has one that can end (never for a user
    /// token: those end with their `exp`, or when the host ends every session of the person).
    pub session: Option<String>,
    /// When the session (or the user token) ends by itself.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Viewer {
    /// How long until the session ends by itself (a session without an end: decades).
    pub fn ends_in(&self) -> Duration {
        const NEVER: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);
        self.expires_at.map_or(NEVER, |at| {
            (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(NEVER)
        })
    }

    /// Who holds a connection opened by this viewer.
    pub fn holder(&self) -> Holder {
        Holder {
            user_id: self.user.id,
            session: self.session.clone(),
        }
    }
}

/// A signed user token and when it expires (`POST /api/server/tokens`).
#[derive(Clone, serde::Serialize)]
pub struct MintedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The credential of an `Authorization: Bearer <credential>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

impl Chat {
    /// The person a request's headers name, if any: by a user token in `Authorization: Bearer`
    /// (when the server API is on; a bad one is refused, never passed on), else through the
    /// host's [`Identity`]. A bearer credential that is not a user token is the host's to
    /// judge. The chat user is created on first sight and renamed when the host's names change.
    pub async fn viewer(&self, headers: &HeaderMap) -> Result<Option<Viewer>, ServerError> {
        if let Some(token) = self.user_token_in(headers) {
            return self.token_viewer(token).await.map(Some);
        }
        let Some(HostSession {
            user,
            session,
            expires_at,
        }) = self.identity.authenticate(headers).await?
        else {
            return Ok(None);
        };
        let person = user;
        let user = self.upsert_user(&person).await?;
        Ok(Some(Viewer {
            user,
            person,
            session,
            expires_at,
        }))
    }

    fn user_token_in<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        self.settings.server_secret.as_ref()?;
        bearer(headers).filter(|credential| token::is_user_token(credential))
    }

    /// The person a user token names: 401 (`ServerError::Token`) when it is malformed, forged
    /// or expired, or names nobody the chat knows.
    pub async fn token_viewer(&self, token: &str) -> Result<Viewer, ServerError> {
        let secret = self
            .settings
            .server_secret
            .as_ref()
            .ok_or(ServerError::Unauthenticated)?;
        let claims = token::verify(secret, token, Utc::now())?;
        let found = db::users::find(&self.pool, claims.sub)
            .await?
            .ok_or(ServerError::Unauthenticated)?;
        Ok(Viewer {
            user: found.user(),
            person: HostUser {
                external_id: found.external_id,
                username: Some(found.username),
                display_name: found.display_name,
            },
            session: None,
            expires_at: Some(claims.expires_at()),
        })
    }

    /// A user token for the chat user `user_id`, valid for `ttl` (at most
    /// [`token::MAX_TTL`]): what `POST /api/server/tokens` answers, for hosts that mint in
    /// process. `NotFound` when there is no such user; `NotFound` too when the server API is
    /// off (no secret to sign with).
    pub async fn mint_token(
        &self,
        user_id: Uuid,
        ttl: std::time::Duration,
    ) -> Result<MintedToken, ServerError> {
        let secret = self
            .settings
            .server_secret
            .as_ref()
            .ok_or(ServerError::NotFound)?;
        if ttl.is_zero() || ttl > token::MAX_TTL {
            return Err(ServerError::BadRequest(format!(
                "ttl_seconds must be 1–{}.",
                token::MAX_TTL.as_secs()
            )));
        }
        if db::users::find(&self.pool, user_id).await?.is_none() {
            return Err(ServerError::NotFound);
        }
        let claims = Claims::new(user_id, Utc::now(), ttl);
        Ok(MintedToken {
            token: token::sign(secret, &claims),
            expires_at: claims.expires_at(),
        })
    }

    /// The chat's user for a host's person: created when missing, names brought up to date.
    pub async fn upsert_user(&self, person: &HostUser) -> Result<User, ServerError> {
        let person = ProjectedUser::parse(person)?;
        Ok(db::users::project(
            &self.pool,
            &person.external_id,
            &person.username,
            &person.display_name,
        )
        .await?)
    }

    /// The chat's users for many of the host's people at once (see [`Chat::upsert_user`]), in
    /// the order given; people whose names are not valid are left out.
    pub async fn upsert_users(&self, people: &[HostUser]) -> Result<Vec<User>, ServerError> {
        let people: Vec<ProjectedUser> = people
            .iter()
            .filter_map(|p| ProjectedUser::parse(p).ok())
            .collect();
        let column = |f: fn(&ProjectedUser) -> &String| -> Vec<String> {
            people.iter().map(|p| f(p).clone()).collect()
        };
        Ok(db::users::project_many(
            &self.pool,
            &column(|p| &p.external_id),
            &column(|p| &p.username),
            &column(|p| &p.display_name),
        )
        .await?)
    }

    /// Tells every instance that a host session ended (signed out, revoked): connections
    /// opened with it close with 4001. `session: None` ends every session of the person.
    pub async fn end_session(
        &self,
        external_id: &str,
        session: Option<&str>,
    ) -> Result<(), ServerError> {
        let Some(user_id) = db::users::id_of(&self.pool, external_id).await? else {
            // Never seen by the chat: nothing of theirs is open.
            return Ok(());
        };
        Notice::SessionEnded {
            u: user_id,
            s: session.map(str::to_owned),
        }
        .publish(&self.pool)
        .await?;
        Ok(())
    }
}

/// A host's person, checked before it is stored.
struct ProjectedUser {
    external_id: String,
    username: String,
    display_name: String,
}

/// Longest `external_id` a host may use (SPEC §7.1).
pub const MAX_EXTERNAL_ID: usize = 128;

impl ProjectedUser {
    fn parse(person: &HostUser) -> Result<Self, ServerError> {
        let external_id = person.external_id.as_str();
        let len = external_id.chars().count();
        if len == 0 || len > MAX_EXTERNAL_ID || external_id.chars().any(char::is_control) {
            return Err(ServerError::BadRequest(format!(
                "external_id must be 1–{MAX_EXTERNAL_ID} characters without control characters"
            )));
        }
        let display_name = DisplayName::parse(&person.display_name)?;
        let username = person
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(external_id);
        Ok(Self {
            external_id: external_id.to_owned(),
            username: username.chars().take(MAX_EXTERNAL_ID).collect(),
            display_name: display_name.as_str().to_owned(),
        })
    }
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

/// The signed-in person, for JSON handlers (the chat's and a host's own: any state the chat is
/// reachable from); rejects with 401 when the request names nobody.
pub struct CurrentUser(pub User);

impl<S> FromRequestParts<S> for CurrentUser
where
    Chat: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Chat::from_ref(state)
            .viewer(&parts.headers)
            .await?
            .map(|viewer| CurrentUser(viewer.user))
            .ok_or(ServerError::Unauthenticated)
    }
}

/// The person behind a request, for handlers that need more than the user (the host's names,
/// the session); rejects with 401 when the request names nobody.
impl<S> FromRequestParts<S> for Viewer
where
    Chat: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Chat::from_ref(state)
            .viewer(&parts.headers)
            .await?
            .ok_or(ServerError::Unauthenticated)
    }
}
