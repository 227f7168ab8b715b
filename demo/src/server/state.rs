//! The demo host's state: the Leptos options, the chat and the accounts, each reached by
//! handlers through `FromRef` (`State<Chat>`, `State<Accounts>`).

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use parley::server::Chat;

use super::accounts::Accounts;

/// Everything the demo's handlers share. The chat and the accounts are reached from it with
/// `State<Chat>` / `State<Accounts>` (`FromRef`).
#[derive(Clone, FromRef)]
pub struct DemoState {
    pub leptos_options: LeptosOptions,
    pub chat: Chat,
    pub accounts: Accounts,
}
