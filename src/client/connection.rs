//! The client's live connection: opens the WebSocket, says `hello` with a cursor per loaded
//! channel (the server replays what was missed), reconnects with exponential backoff and
//! jitter, watches for silence, follows the browser's online/offline events, and sends the
//! outbox one message at a time (restored from storage when the page opens). Does nothing
//! during server rendering.

use leptos::prelude::*;
use uuid::Uuid;

use super::{ChatClient, Delivery};
use crate::model::event::{MAX_CURSORS, PROTOCOL_VERSION};
use crate::model::{ClientEvent, Cursor, Message};

/// What the user sees of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// The first connection is being made.
    Connecting,
    Online,
    /// The connection dropped; trying again.
    Reconnecting,
    /// The browser is offline; waiting for it to come back.
    Offline,
    /// The server ended the session (signed out here or elsewhere, or expired): no retries.
    SignedOut,
}

/// A sent message not acknowledged this long (ms) counts as lost with its connection.
const ACK_WITHIN: f64 = 15_000.0;

/// The socket and its bookkeeping (browser-only parts behind the `hydrate` feature).
#[derive(Default)]
pub struct Link {
    #[cfg(feature = "hydrate")]
    socket: Option<super::socket::Socket>,
    #[cfg(feature = "hydrate")]
    watchers: Vec<Box<dyn FnOnce()>>,
    /// Failed attempts since the last good connection (for the backoff).
    attempts: u32,
    /// When a frame last arrived, and when a ping last went out (ms since the epoch).
    last_heard: f64,
    last_ping: f64,
    /// A reconnect is scheduled.
    retry_pending: bool,
    /// The client was shut down (signed out): never reconnect.
    stopped: bool,
    /// A `ready` arrived at least once (later ones are reconnects).
    was_ready: bool,
    /// The host's token callback, when the chat authenticates with user tokens.
    pub(super) tokens: Option<super::token::TokenProvider>,
    /// The token the next `hello` carries (asked for when missing).
    token: Option<crate::model::event::UserToken>,
    /// The server refused a fresh token since the last `ready`: stop asking, show signed-out.
    token_refused: bool,
}

/// Milliseconds since the epoch (0 on the server, where nothing here runs).
pub(super) fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

impl ChatClient {
    /// Connects and keeps the connection up until [`ChatClient::disconnect`].
    pub fn connect(&self) {
        #[cfg(feature = "hydrate")]
        {
            self.restore_outbox();
            self.watch();
            self.open_socket();
        }
    }

    /// Puts a message at the end of the outbox, and in storage until it is settled, then sends
    /// what is next.
    pub(super) fn enqueue(&self, message: Message) {
        self.store_queued(&message);
        self.outbox.update_value(|o| o.queue.push_back(message));
        self.flush_outbox();
    }

    /// Takes in what earlier pages queued and never saw settled (closed while offline): shown
    /// pending in their logs, sent once the socket is ready. Another open tab of the same
    /// person may send them too: the server stores an id once, and logs merge by id.
    fn restore_outbox(&self) {
        for message in self.stored_queue() {
            let queued = self
                .outbox
                .with_value(|o| o.queue.iter().any(|m| m.id == message.id));
            if queued {
                continue;
            }
            self.log(message.channel_id)
                .update(|l| l.upsert(message.clone(), Delivery::Pending));
            self.outbox.update_value(|o| o.queue.push_back(message));
        }
    }

    /// One of my queued messages arrived stored (sent by another tab that had it too): no need
    /// to send it again, unless it is on the wire already (its acknowledgement settles it).
    pub(super) fn stored_elsewhere(&self, id: Uuid) {
        let mut dropped = false;
        self.outbox.update_value(|o| {
            let on_wire = o.in_flight.is_some_and(|(sent, _)| sent == id);
            if let Some(at) = o.queue.iter().position(|m| m.id == id).filter(|_| !on_wire) {
                o.queue.remove(at);
                dropped = true;
            }
        });
        if dropped {
            self.forget_queued(id);
        }
    }

    /// Closes the connection for good (sign-out).
    pub fn disconnect(&self) {
        self.link.update_value(|link| {
            link.stopped = true;
            #[cfg(feature = "hydrate")]
            {
                link.socket = None;
                for stop in link.watchers.drain(..) {
                    stop();
                }
            }
        });
    }

    /// Sends one frame; `false` when there is no open socket.
    pub(super) fn transmit(&self, event: &ClientEvent) -> bool {
        #[cfg(feature = "hydrate")]
        {
            let Ok(text) = serde_json::to_string(event) else {
                return false;
            };
            self.link.with_value(|link| {
                link.socket
                    .as_ref()
                    .is_some_and(|socket| socket.send(&text))
            })
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = event;
            false
        }
    }

    /// Where this tab stands in every channel it has loaded.
    pub(super) fn cursors(&self) -> Vec<Cursor> {
        self.logs.with_value(|logs| {
            logs.iter()
                .filter_map(|(id, log)| {
                    log.with_untracked(|l| {
                        // A window (`has_newer`) reads on by pages, not by replay: only what
                        // came after the list's newest is asked for (and stays out of it).
                        let known = if l.has_newer {
                            self.channels.with_untracked(|list| {
                                list.iter().find(|c| c.id == *id).map_or(0, |c| c.last_seq)
                            })
                        } else {
                            0
                        };
                        l.loaded.then(|| Cursor {
                            channel_id: *id,
                            last_seq: l.newest_seq().max(known),
                            version: Some(l.version),
                        })
                    })
                })
                .collect()
        })
    }

    /// Asks the server for the messages after `last_seq` in one channel (and the changes
    /// after the log's version).
    pub(super) fn catch_up_from(&self, channel_id: Uuid, last_seq: i64) {
        let version = self.log(channel_id).with_untracked(|l| l.version);
        self.resume(&[Cursor {
            channel_id,
            last_seq,
            version: Some(version),
        }]);
    }

    /// Asks the server for what was missed after each cursor, in frames of at most
    /// `MAX_CURSORS` cursors.
    pub(super) fn resume(&self, cursors: &[Cursor]) {
        for chunk in cursors.chunks(MAX_CURSORS) {
            self.transmit(&ClientEvent::Resume {
                cursors: chunk.to_vec(),
            });
        }
    }

    /// The server answered `hello`: live again.
    pub(super) fn ready(&self) {
        self.link.update_value(|l| l.token_refused = false);
        let reconnected = self.link.with_value(|l| l.was_ready);
        self.link.update_value(|l| {
            l.was_ready = true;
            l.attempts = 0;
        });
        self.connection.set(super::Connection::Online);
        if reconnected {
            // Unread counts and new channels are recomputed by the server, never patched up.
            self.refresh_channels();
        }
        self.flush_outbox();
    }

    /// Sends the next outbox message unless one is on the wire already.
    pub(super) fn flush_outbox(&self) {
        if self.connection.get_untracked() != Connection::Online {
            return;
        }
        let next = self.outbox.with_value(|o| {
            if o.in_flight.is_some() {
                None
            } else {
                o.queue.front().cloned()
            }
        });
        let Some(message) = next else { return };
        let sent = self.transmit(&ClientEvent::Send {
            id: message.id,
            channel_id: message.channel_id,
            text: message.text,
            reply_to: message.reply_to.map(|q| q.id),
            attachments: message.attachments.iter().map(|a| a.id).collect(),
        });
        if sent {
            self.outbox
                .update_value(|o| o.in_flight = Some((message.id, now_ms())));
        }
    }
}

#[cfg(feature = "hydrate")]
impl ChatClient {
    fn open_socket(&self) {
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        if self.link.with_value(|l| l.stopped) {
            return;
        }
        if !online {
            self.connection.set(Connection::Offline);
            return;
        }
        // With user tokens: a token first (asked of the host when there is none), then the
        // socket; a host that cannot give one means signed out.
        if self
            .link
            .with_value(|l| l.tokens.is_some() && l.token.is_none())
        {
            let Some(tokens) = self.link.with_value(|l| l.tokens.clone()) else {
                return;
            };
            let this = *self;
            leptos::task::spawn_local(async move {
                match tokens.fetch().await {
                    Ok(token) => {
                        this.link.update_value(|l| {
                            l.token = Some(crate::model::event::UserToken(token));
                        });
                        this.open_socket();
                    }
                    Err(_) => this.signed_out(),
                }
            });
            return;
        }
        let this = *self;
        let socket = super::socket::Socket::open(
            move || {
                this.heard();
                let mut cursors = this.cursors();
                let rest = cursors.split_off(cursors.len().min(MAX_CURSORS));
                this.transmit(&ClientEvent::Hello {
                    version: PROTOCOL_VERSION,
                    cursors,
                    token: this.link.with_value(|l| l.token.clone()),
                });
                this.resume(&rest);
            },
            move |text| {
                this.heard();
                this.receive_frame(&text);
            },
            // The socket is still running this handler: only schedule, never drop it here.
            move |code| {
                if code == crate::model::event::close::UNAUTHENTICATED {
                    // With tokens, ask the host for a fresh one, once; else signed out.
                    let retry = this
                        .link
                        .with_value(|l| l.tokens.is_some() && !l.token_refused);
                    if retry {
                        this.link.update_value(|l| {
                            l.token = None;
                            l.token_refused = true;
                        });
                        this.lost(false);
                    } else {
                        this.signed_out();
                    }
                } else {
                    this.lost(false);
                }
            },
        );
        let opened = socket.is_some();
        self.link.update_value(|l| l.socket = socket);
        if !opened {
            self.lost(false);
        }
    }

    /// The session is over for good: never reconnect; the provider drops this client.
    fn signed_out(&self) {
        self.link.update_value(|l| l.stopped = true);
        self.connection.set(Connection::SignedOut);
    }

    fn heard(&self) {
        self.link.update_value(|l| l.last_heard = now_ms());
    }

    /// The connection is gone: show it, put the message in flight back in line, and try
    /// again after a backoff (or when the browser is back online). `drop_socket` closes the
    /// socket first (never from inside its own handlers).
    fn lost(&self, drop_socket: bool) {
        if drop_socket {
            self.link.update_value(|l| l.socket = None);
        }
        self.outbox.update_value(|o| o.in_flight = None);
        if self.link.with_value(|l| l.stopped) {
            return;
        }
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        self.connection.set(if online {
            Connection::Reconnecting
        } else {
            Connection::Offline
        });
        if online {
            self.schedule_reconnect();
        }
    }

    fn schedule_reconnect(&self) {
        if self.link.with_value(|l| l.retry_pending) {
            return;
        }
        let attempt = self.link.with_value(|l| l.attempts);
        self.link.update_value(|l| {
            l.attempts += 1;
            l.retry_pending = true;
        });
        // 0.5 s, 1 s, 2 s … up to 30 s, each with jitter (half to all of it), so a restarted
        // server is not hit by every client at once.
        let ceiling = (500.0 * 2f64.powi(attempt.min(6) as i32)).min(30_000.0);
        let delay = ceiling / 2.0 + js_sys::Math::random() * ceiling / 2.0;
        let this = *self;
        set_timeout(
            move || {
                this.link.update_value(|l| l.retry_pending = false);
                this.reconnect();
            },
            std::time::Duration::from_millis(delay as u64),
        );
    }

    fn reconnect(&self) {
        let live = self
            .link
            .with_value(|l| l.socket.as_ref().is_some_and(|s| s.is_live()));
        if !live {
            self.link.update_value(|l| l.socket = None);
            self.open_socket();
        }
    }

    /// Heartbeat (ping, silence and unacknowledged sends) and the browser's online/offline
    /// events.
    fn watch(&self) {
        let this = *self;
        let tick =
            set_interval_with_handle(move || this.check(), std::time::Duration::from_secs(5));
        let offline = window_event_listener(leptos::ev::offline, move |_| this.lost(true));
        let online = window_event_listener(leptos::ev::online, move |_| {
            this.link.update_value(|l| l.attempts = 0);
            this.reconnect();
        });
        self.link.update_value(|l| {
            if let Ok(tick) = tick {
                l.watchers.push(Box::new(move || tick.clear()));
            }
            l.watchers.push(Box::new(move || offline.remove()));
            l.watchers.push(Box::new(move || online.remove()));
        });
    }

    fn check(&self) {
        if self.connection.get_untracked() != Connection::Online {
            return;
        }
        let now = now_ms();
        let (heard, pinged) = self.link.with_value(|l| (l.last_heard, l.last_ping));
        let stuck = self
            .outbox
            .with_value(|o| o.in_flight.is_some_and(|(_, at)| now - at > ACK_WITHIN));
        if now - heard > 60_000.0 || stuck {
            self.lost(true);
        } else if now - pinged > 25_000.0 {
            self.link.update_value(|l| l.last_ping = now);
            self.transmit(&ClientEvent::Ping);
        }
    }
}
