//! User tokens: short-lived credentials the host's backend mints for one of its people
//! (`POST /api/server/tokens`, or [`Chat::mint_token`](super::Chat::mint_token) in-process), so
//! that clients without the host's cookie (a mobile app, a bot, a page on another origin) use
//! the chat as that person: `Authorization: Bearer <token>` on HTTP, `token` in the WebSocket's
//! first `hello`. A JWT (RFC 7519) signed HS256 with the server secret, explicitly typed
//! `parley+jwt` (RFC 8725 §3.11) so it is never taken for a host's own bearer tokens; claims
//! `sub` (the chat user's uuid), `iat` and `exp` (seconds since the epoch). Uses `secret`.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use super::secret::ServerSecret;

/// How long a token lives when the caller does not say.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest a token may live.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The `typ` of every user token's header.
pub const TOKEN_TYPE: &str = "parley+jwt";
/// Longer strings are not read at all.
const MAX_TOKEN_BYTES: usize = 2048;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The chat user's id.
    pub sub: Uuid,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch); not valid from then on.
    pub exp: i64,
}

impl Claims {
    /// Claims for `user_id`, valid for `ttl` from `now`.
    pub fn new(user_id: Uuid, now: DateTime<Utc>, ttl: Duration) -> Self {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        Self {
            sub: user_id,
            iat: now.timestamp(),
            exp: now.timestamp().saturating_add(ttl),
        }
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("the user token is malformed")]
    Malformed,
    #[error("the user token's signature is not valid")]
    Forged,
    #[error("the user token has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
}

/// The signed token for `claims`.
pub fn sign(secret: &ServerSecret, claims: &Claims) -> String {
    let header = Header {
        alg: "HS256",
        typ: TOKEN_TYPE,
    };
    // Plain data: serializing cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = URL_SAFE_NO_PAD.encode(secret.sign(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// Whether `token` is a user token at all (a JWT typed [`TOKEN_TYPE`]), whatever its
/// signature and age: what a bearer credential must be for the chat to judge it rather than
/// leave it to the host's identity.
pub fn is_user_token(token: &str) -> bool {
    header_of(token).is_some()
}

fn header_of(token: &str) -> Option<()> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    let header: Header = serde_json::from_slice(&header).ok()?;
    (header.typ == TOKEN_TYPE).then_some(())
}

/// The claims of a token signed with `secret` that is still valid at `now`.
pub fn verify(
    secret: &ServerSecret,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let signed = &token[..header.len() + 1 + claims.len()];
    let header = decode(header)?;
    let header: Header = serde_json::from_slice(&header).map_err(|_| TokenError::Malformed)?;
    // One algorithm only: never `none`, never one chosen by whoever made the token.
    if header.alg != "HS256" || header.typ != TOKEN_TYPE {
        return Err(TokenError::Malformed);
    }
    if !secret.verify(signed.as_bytes(), &decode(signature)?) {
        return Err(TokenError::Forged);
    }
    let claims: Claims =
        serde_json::from_slice(&decode(claims)?).map_err(|_| TokenError::Malformed)?;
    if now.timestamp() >= claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn decode(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> ServerSecret {
        ServerSecret::new(format!("{s:-<40}")).unwrap_or_else(|_| panic!("long enough"))
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let key = secret("one");
        let now = Utc::now();
        let claims = Claims::new(Uuid::from_u128(5), now, Duration::from_secs(60));
        let token = sign(&key, &claims);
        assert!(is_user_token(&token));
        assert_eq!(verify(&key, &token, now), Ok(claims.clone()));
        let later = now + chrono::Duration::seconds(60);
        assert_eq!(verify(&key, &token, later), Err(TokenError::Expired));
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let now = Utc::now();
        let claims = Claims::new(Uuid::from_u128(5), now, Duration::from_secs(60));
        let token = sign(&secret("one"), &claims);
        assert_eq!(verify(&secret("two"), &token, now), Err(TokenError::Forged));
        // Someone else's claims under the original signature.
        let other = sign(
            &secret("one"),
            &Claims::new(Uuid::from_u128(6), now, Duration::from_secs(60)),
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap_or_default();
        assert_eq!(
            verify(&secret("one"), &parts.join("."), now),
            Err(TokenError::Forged)
        );
        // `alg: none` with no signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"parley+jwt"}"#),
            token.split('.').nth(1).unwrap_or_default()
        );
        assert_eq!(
            verify(&secret("one"), &none, now),
            Err(TokenError::Malformed)
        );
        for junk in ["", "abc", "a.b.c", "a.b.c.d", &format!("{token}.x")] {
            assert!(verify(&secret("one"), junk, now).is_err(), "{junk}");
        }
    }

    #[test]
    fn only_parley_typed_jwts_are_ours() {
        let hosts_own = format!(
            "{}.e30.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#)
        );
        assert!(!is_user_token(&hosts_own));
        assert!(!is_user_token("opaque-session-token"));
    }
}
