//! Browser notifications and the tab's title: whether notifications may be shown (asked only
//! when the person presses "Enable notifications"), one notification per conversation for a
//! message that arrives while the tab is hidden (not in a muted conversation, unless it
//! mentions me; never my own or a blocked person's), and clicking it opens the conversation.
//! The tab's title reads "(N) …" while N messages are unread. Browser only; the server build
//! compiles the same calls to nothing.

use leptos::prelude::*;
use uuid::Uuid;

use super::ChatClient;
use crate::model::format::plain;
use crate::model::Message;

/// Characters of the message a notification shows.
const BODY_CHARS: usize = 100;

/// What the browser allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// No Notification API here (or not in the browser).
    Unsupported,
    /// Not asked yet.
    Default,
    Granted,
    Denied,
}

/// The browser's current answer.
pub fn permission() -> Permission {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsValue;
        let window = window();
        let supported =
            js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false);
        if !supported {
            return Permission::Unsupported;
        }
        match web_sys::Notification::permission() {
            web_sys::NotificationPermission::Granted => Permission::Granted,
            web_sys::NotificationPermission::Denied => Permission::Denied,
            _ => Permission::Default,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    Permission::Unsupported
}

/// Asks the browser for permission (from a click: browsers refuse it otherwise); `then` gets
/// the answer.
pub fn ask(then: impl FnOnce(Permission) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsValue;
        match web_sys::Notification::request_permission() {
            Ok(promise) => {
                let done = Closure::once(move |_: JsValue| then(permission()));
                let _ = promise.then(&done);
                done.forget();
            }
            Err(_) => then(permission()),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    then(Permission::Unsupported)
}

/// Whether the tab is hidden (another tab in front, the window minimised).
fn hidden() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().visibility_state() == web_sys::VisibilityState::Hidden
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Puts the unread count in front of the tab's title ("(N) …"; none at 0).
pub fn show_count_in_title(unread: i64) {
    #[cfg(feature = "hydrate")]
    {
        let document = document();
        let title = titled(&document.title(), unread);
        if title != document.title() {
            document.set_title(&title);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = unread;
}

/// The title with "(N) " in front while `unread` > 0 (any earlier count replaced).
pub fn titled(title: &str, unread: i64) -> String {
    let base = match title
        .strip_prefix('(')
        .and_then(|rest| rest.split_once(") "))
    {
        Some((count, rest)) if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) => {
            rest
        }
        _ => title,
    };
    if unread > 0 {
        format!("({unread}) {base}")
    } else {
        base.to_owned()
    }
}

impl ChatClient {
    /// Keeps `visible` following the tab (call once per client).
    pub fn watch_tab(&self) {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::closure::Closure;
            use leptos::wasm_bindgen::JsCast;
            let visible = self.visible;
            visible.set(!hidden());
            let changed = Closure::<dyn Fn()>::new(move || {
                let _ = visible.try_set(!hidden());
            });
            let _ = document().add_event_listener_with_callback(
                "visibilitychange",
                changed.as_ref().unchecked_ref(),
            );
            // Lives as long as the page: one listener per signed-in client.
            changed.forget();
        }
    }

    /// A message arrived: tells the person when the tab is hidden and it is worth telling.
    pub(super) fn notify(&self, message: &Message) {
        let Some(author) = message.user_id else {
            return;
        };
        let me = self.me_id();
        if author == me || self.blocks(author) || !hidden() || permission() != Permission::Granted {
            return;
        }
        let Some((title, muted, people)) = self.channels.with_untracked(|list| {
            list.iter()
                .find(|c| c.id == message.channel_id)
                .map(|c| (c.title(me), c.muted, c.members.clone()))
        }) else {
            return;
        };
        if muted && !message.mentions_user(me) {
            return;
        }
        let name = people
            .iter()
            .find(|p| p.id == author)
            .map_or("Someone", |p| p.display_name.as_str());
        let text: String = plain(&message.text, &people)
            .chars()
            .take(BODY_CHARS)
            .collect();
        self.show(message.channel_id, &title, &format!("{name}: {text}"));
    }

    #[cfg(feature = "hydrate")]
    fn show(&self, channel_id: Uuid, title: &str, body: &str) {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        // One per conversation: a newer message replaces the one shown.
        options.set_tag(&format!("parley-{channel_id}"));
        let Ok(notification) = web_sys::Notification::new_with_options(title, &options) else {
            return;
        };
        let this = *self;
        let shown = notification.clone();
        let click = Closure::once_into_js(move || {
            let window = window();
            let _ = window.focus();
            if this.open_followers.get_value() > 0 {
                this.open_request.set(Some(channel_id));
            } else {
                // No chat on this page of the host: go to the conversation's page.
                let _ = window.location().set_href(&format!("/chat/{channel_id}"));
            }
            shown.close();
        });
        notification.set_onclick(Some(click.unchecked_ref()));
    }

    #[cfg(not(feature = "hydrate"))]
    fn show(&self, _channel_id: Uuid, _title: &str, _body: &str) {}
}

#[cfg(test)]
mod tests {
    use super::titled;

    #[test]
    fn the_count_goes_in_front_and_replaces_an_earlier_one() {
        assert_eq!(titled("Parley", 0), "Parley");
        assert_eq!(titled("Parley", 3), "(3) Parley");
        assert_eq!(titled("(3) Parley", 1), "(1) Parley");
        assert_eq!(titled("(3) Parley", 0), "Parley");
        // A title of its own in brackets stays.
        assert_eq!(titled("(beta) Parley", 2), "(2) (beta) Parley");
        assert_eq!(titled("() x", 0), "() x");
    }
}
