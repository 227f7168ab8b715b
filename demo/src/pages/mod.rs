//! The host app's own pages around the chat: header, sign-in, sign-up, the People demo page.
//! They use `model`, `api` and `chat` components.

mod account;
mod header;
mod people;

pub use account::{LoginPage, SignupPage};
pub use header::Header;
pub use people::PeoplePage;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>
                <a href="/people">"Back to People"</a>
            </p>
        </section>
    }
}
