//! The app shell and router: the routes of SPEC.md §5 (`/` redirects to `/people` on the
//! server).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::{Header, LoginPage, NotFound, PeoplePage, SignupPage};
use parley::chat::{ChatInterface, ChatProvider, ChatStylesheet, ChatUserContext};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    parley::server::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
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
    // Tests and tools wait for this before clicking: handlers exist only after hydration.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <ChatStylesheet />
        <Stylesheet id="leptos" href="/pkg/parley.css" />
        <Title text="Parley" />
        <ChatUserContext>
            <ChatProvider>
                <Router>
                    <Header />
                    <main class="main">
                        <Routes fallback=NotFound>
                            <Route path=path!("/login") view=LoginPage />
                            <Route path=path!("/signup") view=SignupPage />
                            <Route path=path!("/people") view=PeoplePage />
                            <Route path=path!("/chat") view=ChatInterface />
                            <Route path=path!("/chat/:id") view=ChatInterface />
                        </Routes>
                    </main>
                </Router>
            </ChatProvider>
        </ChatUserContext>
    }
}
