//! The shell, the routes and the pages: the sign-in page, the team (where a chat starts) and
//! the chat itself at `/chat` and `/chat/:id`, all inside the chat's user context and provider.
//! Visitors never see the pages behind sign-in: the server redirects them (`server::router`),
//! and the header leaves them once the chat says nobody is signed in. Uses `people`, `api`,
//! `header` and the chat's components and server functions (`parley::chat`, `parley::api`).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;
use parley::api::list_users;
use parley::chat::{
    use_chat_user, ChatButton, ChatInterface, ChatProvider, ChatStylesheet, ChatUserContext,
};
use parley::model::User;

use crate::api::SignIn;
use crate::header::Header;
use crate::people::PEOPLE;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The chat's Content-Security-Policy for this page, with this response's nonce.
    #[cfg(feature = "ssr")]
    parley::server::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tests wait for this before clicking: handlers exist only after hydration.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        // The chat's stylesheet first, so the host's own rules win where both say something.
        <ChatStylesheet />
        <Stylesheet href="/pkg/parley.css" />
        <Title text="Minimal host" />
        <ChatUserContext>
            <ChatProvider>
                <Router>
                    <Header />
                    <main class="main">
                        <Routes fallback=|| "Page not found.">
                            <Route path=path!("/sign-in") view=SignInPage />
                            <Route path=path!("/") view=Team />
                            <Route path=path!("/chat") view=ChatInterface />
                            <Route path=path!("/chat/:id") view=ChatInterface />
                        </Routes>
                    </main>
                </Router>
            </ChatProvider>
        </ChatUserContext>
    }
}

/// One of the people and the shared password.
#[component]
fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let chat_user = use_chat_user();
    let signed_in = move || matches!(sign_in.value().get(), Some(Ok(())));
    Effect::new(move |_| {
        if signed_in() {
            chat_user.refresh();
        }
    });
    // On to the team once the chat knows who signed in: before that, the header would still see
    // a visitor and send them back here.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if signed_in() && matches!(chat_user.user.get(), Some(Ok(Some(_)))) {
            navigate("/", Default::default());
        }
    });
    let error = move || {
        sign_in
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    };
    view! {
        <section class="sign-in">
            <h1>"Sign in"</h1>
            <ActionForm action=sign_in>
                <label for="person">"Person"</label>
                <select id="person" name="person">
                    {PEOPLE.iter().map(|p| view! { <option value=p.id>{p.name}</option> }).collect_view()}
                </select>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" />
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit">"Sign in"</button>
            </ActionForm>
        </section>
    }
}

/// Everyone else, each with the chat's "Message <name>" button: the people come from the chat's
/// `list_users` server function (this host's `Identity::list_users`, as the chat's users).
#[component]
fn Team() -> impl IntoView {
    let people = Resource::new(|| (), |_| list_users());
    let member = |person: User| {
        view! {
            <li class="member">
                <span>{person.display_name.clone()}</span>
                <ChatButton user=person />
            </li>
        }
    };
    view! {
        <h1>"Team"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                people.get().map(|people| match people {
                    Ok(people) => {
                        let members = people.into_iter().map(member).collect_view();
                        view! { <ul class="team">{members}</ul> }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}
