//! Sign-in and sign-up forms. They work before the WASM has loaded: each is a plain
//! `method="post"` form to its server function (a plain post is answered with a redirect, see
//! `api::form`), and the inputs are uncontrolled, read through `NodeRef` on submit, so
//! hydration never clears what was typed. Once hydrated, a submit is checked in the browser
//! with the same parsers the server enforces and sent without leaving the page; errors show
//! inline. After a plain post the server names the error in the address (a fixed message, see
//! `model::form_error_message`) and keeps the typed username and display name there.

use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Login, Signup};
use crate::model::{form_error_message, LoginInput, SignupInput};
use crate::next_path::NextPath;
use parley::chat::use_chat_user;
use parley::model::{ApiError, User};

/// What the form page's address says: where to go after signing in, and, when a plain form
/// post was refused, why and what had been typed.
struct FormAddress {
    next: NextPath,
    error: Option<String>,
    username: String,
    display_name: String,
}

fn form_address() -> FormAddress {
    use_query_map().with_untracked(|q| FormAddress {
        next: NextPath::or_default(q.get_str("next")),
        error: q.get_str("error").and_then(form_error_message),
        username: q.get("username").unwrap_or_default(),
        display_name: q.get("display_name").unwrap_or_default(),
    })
}

/// What an input holds now (empty before it is mounted).
fn typed(input: NodeRef<html::Input>) -> String {
    input
        .get_untracked()
        .map(|el| el.value())
        .unwrap_or_default()
}

/// Once `result` holds a user: refresh the signed-in user and go to `next`. Errors go to
/// `error`.
fn follow_result(
    result: impl Fn() -> Option<Result<User, ApiError>> + 'static,
    next: NextPath,
    error: RwSignal<Option<String>>,
) {
    let chat_user = use_chat_user();
    let navigate = use_navigate();
    Effect::new(move |_| match result() {
        Some(Ok(_)) => {
            chat_user.refresh();
            navigate(next.as_str(), Default::default());
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
    let address = form_address();
    let username = NodeRef::<html::Input>::new();
    let password = NodeRef::<html::Input>::new();
    let error = RwSignal::new(address.error);
    let login = ServerAction::<Login>::new();
    let (action, next) = (<Login as ServerFn>::PATH, address.next.as_str().to_owned());
    follow_result(move || login.value().get(), address.next, error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = LoginInput {
            username: typed(username),
            password: typed(password),
        };
        match input.check_filled() {
            Ok(()) => {
                error.set(None);
                login.dispatch(Login { input, next: None });
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="card auth">
            <h1>"Sign in"</h1>
            <form method="post" action=action on:submit=on_submit novalidate>
                <input type="hidden" name="next" value=next />
                <label for="login-username">"Username"</label>
                <input
                    id="login-username"
                    name="input[username]"
                    type="text"
                    autocomplete="username"
                    value=address.username
                    node_ref=username
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="input[password]"
                    type="password"
                    autocomplete="current-password"
                    node_ref=password
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
    let address = form_address();
    let username = NodeRef::<html::Input>::new();
    let display_name = NodeRef::<html::Input>::new();
    let password = NodeRef::<html::Input>::new();
    let error = RwSignal::new(address.error);
    let signup = ServerAction::<Signup>::new();
    let (action, next) = (<Signup as ServerFn>::PATH, address.next.as_str().to_owned());
    follow_result(move || signup.value().get(), address.next, error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = SignupInput {
            username: typed(username),
            display_name: typed(display_name),
            password: typed(password),
        };
        match input.parse() {
            Ok(_) => {
                error.set(None);
                signup.dispatch(Signup { input, next: None });
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="card auth">
            <h1>"Create your account"</h1>
            <form method="post" action=action on:submit=on_submit novalidate>
                <input type="hidden" name="next" value=next />
                <label for="signup-username">"Username"</label>
                <input
                    id="signup-username"
                    name="input[username]"
                    type="text"
                    autocomplete="username"
                    value=address.username
                    node_ref=username
                />
                <label for="signup-display-name">"Display name"</label>
                <input
                    id="signup-display-name"
                    name="input[display_name]"
                    type="text"
                    autocomplete="name"
                    value=address.display_name
                    node_ref=display_name
                />
                <label for="signup-password">"Password"</label>
                <input
                    id="signup-password"
                    name="input[password]"
                    type="password"
                    autocomplete="new-password"
                    node_ref=password
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
