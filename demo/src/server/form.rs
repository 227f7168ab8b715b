//! Sign-in and sign-up sent as a plain HTML form post: typed and submitted before the WASM has
//! loaded (or without JavaScript). The browser then shows whatever the server function answers,
//! so such a call is answered as a classic form handler would: `303 See Other` to the `next`
//! page (the session cookie is already set), or back to the form with the error named and the
//! typed username and display name kept (never the password). Calls from the hydrated app ask
//! for JSON and are not affected.

use axum::http::header::{ACCEPT, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use parley::model::ApiError;
use parley::server::ServerError;

use super::accounts::encode_query_value;
use crate::model::form_error_code;
use crate::next_path::NextPath;

/// Adds a `Set-Cookie` header to the current server function's response.
pub fn set_cookie(cookie: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(SET_COOKIE, cookie);
    }
}

/// Whether the current server function call is a browser's own form submission: it asks for
/// a page (`text/html`), where the app's calls ask for JSON. (leptos_axum tells them apart the
/// same way.)
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Ends a plain form post: on success to `next` (a path on this site, else the default page),
/// on failure back to `form` (the form page's path) showing the error and keeping `kept`
/// (field name and typed value). The `Location` set here replaces the one leptos_axum would
/// send (the Referer).
pub fn answer<T>(
    result: Result<T, ServerError>,
    form: &str,
    next: Option<&str>,
    kept: &[(&str, &str)],
) -> Result<T, ApiError> {
    let next = NextPath::or_default(next);
    match result {
        Ok(value) => {
            see_other(next.as_str());
            Ok(value)
        }
        Err(error) => {
            let code = match &error {
                ServerError::Invalid(invalid) => form_error_code(invalid),
                _ => None,
            }
            .map(str::to_owned)
            .or_else(|| {
                serde_json::to_value(error.to_api().code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .unwrap_or_else(|| "bad_request".to_owned());
            let mut location = format!(
                "{form}?next={}&error={}",
                query_value(next.as_str()),
                query_value(&code)
            );
            for (name, value) in kept {
                location.push_str(&format!("&{name}={}", query_value(value)));
            }
            see_other(&location);
            Err(ApiError::from(error))
        }
    }
}

fn see_other(location: &str) {
    let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(location),
    ) else {
        return;
    };
    response.insert_header(LOCATION, value);
    response.set_status(StatusCode::SEE_OTHER);
}

/// Percent-encodes everything but unreserved characters.
fn query_value(value: &str) -> String {
    encode_query_value(value, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_values_cannot_add_parameters() {
        assert_eq!(
            query_value("a&next=//x y/é"),
            "a%26next%3D%2F%2Fx%20y%2F%C3%A9"
        );
    }
}
