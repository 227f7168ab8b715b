//! Account server functions: sign up, sign in, sign out, who am I, who else is here.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::form;

use crate::model::{ApiError, LoginInput, SignupInput, User};

/// Creates an account and signs it in (sets the session cookie). `next` is read only from a
/// plain form post (see `form`), which is answered with a redirect there.
#[server(prefix = "/api/fn", endpoint = "signup")]
pub async fn signup(input: SignupInput, next: Option<String>) -> Result<User, ApiError> {
    use crate::server::{auth, context, ServerError};
    let result: Result<User, ServerError> = async {
        let state = context::app_state()?;
        let (address, headers) = (context::client_address()?, context::request_headers()?);
        let signed_in = auth::sign_up(&state, &input, address, &headers).await?;
        context::set_cookie(signed_in.cookie);
        Ok(signed_in.user)
    }
    .await;
    if form::is_plain_form_post() {
        let kept = [
            ("username", input.username.as_str()),
            ("display_name", input.display_name.as_str()),
        ];
        return form::answer(result, "/signup", next.as_deref(), &kept);
    }
    context::respond(result)
}

/// Signs in with a username and password (sets the session cookie). `next` as for [`signup`].
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(input: LoginInput, next: Option<String>) -> Result<User, ApiError> {
    use crate::server::{auth, context, ServerError};
    let result: Result<User, ServerError> = async {
        let state = context::app_state()?;
        let (address, headers) = (context::client_address()?, context::request_headers()?);
        let signed_in = auth::sign_in(&state, &input, address, &headers).await?;
        context::set_cookie(signed_in.cookie);
        Ok(signed_in.user)
    }
    .await;
    if form::is_plain_form_post() {
        let kept = [("username", input.username.as_str())];
        return form::answer(result, "/login", next.as_deref(), &kept);
    }
    context::respond(result)
}

/// Ends the current session on the server and clears its cookie.
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), ApiError> {
    use crate::server::{auth, context};
    context::respond(
        async {
            let cookie =
                auth::sign_out(&context::app_state()?, &context::request_headers()?).await?;
            context::set_cookie(cookie);
            Ok(())
        }
        .await,
    )
}

/// Ends every session of the signed-in user, on every device, and clears this one's cookie.
#[server(prefix = "/api/fn", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), ApiError> {
    use crate::server::{auth, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            let cookie = auth::sign_out_everywhere(&context::app_state()?, &me).await?;
            context::set_cookie(cookie);
            Ok(())
        }
        .await,
    )
}

/// The signed-in user, or `None` for a visitor.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<User>, ApiError> {
    use crate::server::context;
    context::respond(context::current_user().await)
}

/// Everyone but the signed-in user (the host app's People page).
#[server(prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    use crate::server::{context, db};
    context::respond(
        async {
            let me = context::require_user().await?;
            Ok(db::users::list_except(&context::app_state()?.pool, me.id).await?)
        }
        .await,
    )
}
