//! Sign-in and sign-up forms. Inputs are checked in the browser with the same parsers the server
//! enforces; server errors (wrong password, username taken) show inline.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Login, Signup};
use crate::chat::use_chat_user;
use crate::model::{ApiError, LoginInput, SignupInput, User};

/// Where to go after signing in: the `next` query parameter when it is a path on this site.
fn next_path() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || {
        query
            .with_untracked(|q| q.get("next"))
            .filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
            .unwrap_or_else(|| "/people".to_owned())
    }
}

/// Once `result` holds a user: refresh the signed-in user and go to `next`. Errors go to
/// `error`.
fn follow_result(
    result: impl Fn() -> Option<Result<User, ApiError>> + 'static,
    error: RwSignal<Option<String>>,
) {
    let chat_user = use_chat_user();
    let navigate = use_navigate();
    let next = next_path();
    Effect::new(move |_| match result() {
        Some(Ok(_)) => {
            chat_user.refresh();
            navigate(&next(), Default::default());
        }
        Some(Err(e)) => error.set(Some(e.message)),
        None => {}
    });
}

#[component]
fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <p class="error" role="alert">
                {move || error.get()}
            </p>
        </Show>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let login = ServerAction::<Login>::new();
    follow_result(move || login.value().get(), error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = LoginInput {
            username: username.get(),
            password: password.get(),
        };
        match input.check_filled() {
            Ok(()) => {
                error.set(None);
                login.dispatch(Login { input });
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="card auth">
            <h1>"Sign in"</h1>
            <form on:submit=on_submit novalidate>
                <label for="login-username">"Username"</label>
                <input id="login-username" type="text" autocomplete="username" bind:value=username />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    autocomplete="current-password"
                    bind:value=password
                />
                <ErrorLine error />
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </form>
            <p class="muted">"New here? " <a href="/signup">"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let signup = ServerAction::<Signup>::new();
    follow_result(move || signup.value().get(), error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = SignupInput {
            username: username.get(),
            display_name: display_name.get(),
            password: password.get(),
        };
        match input.parse() {
            Ok(_) => {
                error.set(None);
                signup.dispatch(Signup { input });
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="card auth">
            <h1>"Create your account"</h1>
            <form on:submit=on_submit novalidate>
                <label for="signup-username">"Username"</label>
                <input id="signup-username" type="text" autocomplete="username" bind:value=username />
                <label for="signup-display-name">"Display name"</label>
                <input
                    id="signup-display-name"
                    type="text"
                    autocomplete="name"
                    bind:value=display_name
                />
                <label for="signup-password">"Password"</label>
                <input
                    id="signup-password"
                    type="password"
                    autocomplete="new-password"
                    bind:value=password
                />
                <p class="hint">"At least 8 characters."</p>
                <ErrorLine error />
                <button type="submit" class="primary" disabled=move || signup.pending().get()>
                    "Create account"
                </button>
            </form>
            <p class="muted">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
