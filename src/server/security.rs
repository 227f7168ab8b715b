//! Cross-site protection and security headers: requests for a host we do not serve are refused
//! (421, against DNS rebinding), state-changing requests from other sites are refused
//! (`Sec-Fetch-Site`, else `Origin`), every response says `nosniff` and may not be framed,
//! JSON and pages are never cached, https origins get HSTS, and pages carry a
//! Content-Security-Policy that allows only this origin's scripts (plus the per-response nonce
//! of Leptos's inline hydration script, and WASM compilation).

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth;
use super::error::ServerError;
use super::state::Chat;

/// For responses that are not pages (JSON, files): nothing may load from them or frame them.
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of an HTML page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Refuses requests whose `Host` is not ours (421): a DNS-rebinding page reaches a loopback
/// instance under its own name, and must not talk to it as the signed-in user. Requests without
/// `Host` (HTTP/1.0 clients, in-process tests) carry no name to confuse and pass.
pub async fn refuse_foreign_hosts(
    State(state): State<Chat>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .map(|h| h.to_str().unwrap_or_default());
    if let Some(host) = host {
        if !state.settings.serves_host(host) {
            tracing::info!(host, "request for a foreign host refused");
            return ServerError::MisdirectedRequest.into_response();
        }
    }
    next.run(request).await
}

/// Refuses state-changing requests that a browser sent from another site. Browsers say where
/// a request comes from in `Sec-Fetch-Site` (all current ones) or at least `Origin`; clients
/// that are not browsers send neither and are not affected (they hold no victim's cookie).
pub async fn refuse_cross_site_writes(
    State(state): State<Chat>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let headers = request.headers();
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let refused = match site {
            Some(site) => !matches!(site, "same-origin" | "none"),
            None => auth::require_same_origin(&state.settings, headers).is_err(),
        };
        if refused {
            return ServerError::Forbidden("Requests from other sites are refused.")
                .into_response();
        }
    }
    next.run(request).await
}

/// Adds the headers every response carries (a page's own policy is kept), errors made by
/// layers and routing included: JSON answers and pages are `no-store` (they hold private
/// words), and over https browsers are told to use nothing else (HSTS).
pub async fn headers(State(state): State<Chat>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let private = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if private {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.secure_cookies {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            // Not `includeSubDomains`: the chat may live beside sites of the same domain
            // that do not speak https.
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    response
}

/// Called while rendering a page: sets its Content-Security-Policy with this response's nonce.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
