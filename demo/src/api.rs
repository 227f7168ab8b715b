//! The demo's account server functions: sign up, sign in, sign out (here or everywhere). The
//! chat's own server functions (who am I, people, channels, messages) come from `parley::api`.

use leptos::prelude::*;
use parley::model::{ApiError, User};

use crate::model::{LoginInput, SignupInput};

/// The demo's accounts, the chat and the request, as every account server function needs them.
#[cfg(feature = "ssr")]
mod ssr {
    use parley::server::{context, Chat, ServerError};

    use crate::server::Accounts;

    pub fn accounts() -> Result<Accounts, ServerError> {
        leptos::prelude::use_context::<Accounts>()
            .ok_or_else(|| ServerError::Internal("no Accounts in context".into()))
    }

    pub fn chat() -> Result<Chat, ServerError> {
        context::chat()
    }
}

/// Creates an account and signs it in (sets the session cookie). `next` is read only from a
/// plain form post (see `server::form`), which is answered with a redirect there.
#[server(prefix = "/api/fn", endpoint = "signup")]
pub async fn signup(input: SignupInput, next: Option<String>) -> Result<User, ApiError> {
    use crate::server::form;
    use parley::server::{context, ServerError};
    let result: Result<User, ServerError> = async {
        let (address, headers) = (context::client_address()?, context::request_headers()?);
        let signed_in = ssr::accounts()?
            .sign_up(&ssr::chat()?, &input, address, &headers)
            .await?;
        form::set_cookie(signed_in.cookie);
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
    use crate::server::form;
    use parley::server::{context, ServerError};
    let result: Result<User, ServerError> = async {
        let (address, headers) = (context::client_address()?, context::request_headers()?);
        let signed_in = ssr::accounts()?
            .sign_in(&ssr::chat()?, &input, address, &headers)
            .await?;
        form::set_cookie(signed_in.cookie);
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
    use crate::server::form;
    use parley::server::context;
    context::respond(
        async {
            let cookie = ssr::accounts()?
                .sign_out(&ssr::chat()?, &context::request_headers()?)
                .await?;
            form::set_cookie(cookie);
            Ok(())
        }
        .await,
    )
}

/// Ends every session of the signed-in account, on every device, and clears this one's cookie.
#[server(prefix = "/api/fn", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), ApiError> {
    use crate::server::form;
    use parley::server::context;
    context::respond(
        async {
            let cookie = ssr::accounts()?
                .sign_out_everywhere(&ssr::chat()?, &context::request_headers()?)
                .await?;
            form::set_cookie(cookie);
            Ok(())
        }
        .await,
    )
}
