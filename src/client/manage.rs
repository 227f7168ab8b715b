//! Conversations people manage, on the client side: the members dialog's roster, adding and
//! removing people, roles, leaving, renaming, muting, blocking and reporting. Each method calls
//! one server function and puts its answer into the store; the events that say the same to
//! other tabs (`channel_updated`, `channel_removed`, `blocks`) land here too. Uses the store
//! (`super`), `api` and `model`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::ChatClient;
use crate::api;
use crate::model::{ChannelName, ChannelSummary, Member, MemberChange, ReportReason, Role, User};

impl ChatClient {
    /// A channel's members with their roles (`None` until fetched: call [`Self::load_members`]).
    pub fn roster(&self, channel_id: Uuid) -> RwSignal<Option<Vec<Member>>> {
        self.signal_in(self.rosters, channel_id)
    }

    /// Fetches a channel's members with their roles into [`Self::roster`].
    pub fn load_members(&self, channel_id: Uuid) {
        let roster = self.roster(channel_id);
        spawn_local(async move {
            match api::channel_members(channel_id).await {
                Ok(members) => roster.set(Some(members)),
                Err(e) => leptos::logging::warn!("chat: members of {channel_id}: {}", e.message),
            }
        });
    }

    /// A channel's name or members changed (here or elsewhere): the list shows the new ones,
    /// the log remembers the version, and a roster someone holds is fetched again (the event
    /// carries no roles).
    pub(super) fn channel_changed(
        &self,
        channel_id: Uuid,
        name: Option<String>,
        members: Vec<User>,
        version: i64,
    ) {
        let known = self
            .channels
            .with_untracked(|list| list.iter().any(|c| c.id == channel_id));
        if !known {
            return;
        }
        self.update_channel(channel_id, |c| {
            c.name = name;
            c.members = members;
        });
        let log = self.log(channel_id);
        if log.with_untracked(|l| l.loaded) {
            log.update(|l| l.version = l.version.max(version));
        }
        let held = self.rosters.with_value(|r| {
            r.get(&channel_id)
                .is_some_and(|s| s.with_untracked(Option::is_some))
        });
        if held {
            self.load_members(channel_id);
        }
    }

    /// I am no longer a member (removed, or I left here or in another tab): the channel leaves
    /// the list, its log is forgotten (no more cursors for it), and an open conversation shows
    /// "Conversation not found", as every later read of it would.
    pub(super) fn removed(&self, channel_id: Uuid) {
        let beyond = self.beyond_pages(channel_id);
        self.missing.update(|ids| {
            ids.insert(channel_id);
        });
        self.looked_up.update_value(|ids| {
            ids.insert(channel_id);
        });
        self.channels
            .update(|list| list.retain(|c| c.id != channel_id));
        if let Some(log) = self
            .logs
            .try_update_value(|logs| logs.remove(&channel_id))
            .flatten()
        {
            log.set(Default::default());
        }
        self.rosters.update_value(|r| {
            r.remove(&channel_id);
        });
        // Messages still waiting for it can never be stored.
        self.outbox
            .update_value(|o| o.queue.retain(|m| m.channel_id != channel_id));
        if beyond {
            self.recount_unloaded();
        }
    }

    pub(super) fn set_blocked(&self, blocked: Vec<Uuid>) {
        if self.blocked.with_untracked(|b| *b != blocked) {
            self.blocked.set(blocked);
        }
    }

    /// Whether I block `user_id` (tracked).
    pub fn blocks(&self, user_id: Uuid) -> bool {
        self.blocked.with(|b| b.contains(&user_id))
    }

    /// Puts a channel's name and members from a server answer into the list.
    fn took_members(&self, answer: ChannelSummary) {
        self.update_channel(answer.id, |c| {
            c.name = answer.name;
            c.members = answer.members;
        });
    }

    /// Adds and removes people (owners and admins); the roster is fetched again.
    pub async fn change_members(
        &self,
        channel_id: Uuid,
        change: MemberChange,
    ) -> Result<(), String> {
        let answer = api::change_members(channel_id, change)
            .await
            .map_err(|e| e.message)?;
        self.took_members(answer);
        self.load_members(channel_id);
        Ok(())
    }

    /// Gives a member another role (owners).
    pub async fn set_role(
        &self,
        channel_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> Result<(), String> {
        let members = api::set_role(channel_id, user_id, role)
            .await
            .map_err(|e| e.message)?;
        self.roster(channel_id).set(Some(members));
        Ok(())
    }

    /// Leaves a group: it is gone from this tab at once (other tabs hear `channel_removed`).
    pub async fn leave(&self, channel_id: Uuid) -> Result<(), String> {
        api::leave_channel(channel_id)
            .await
            .map_err(|e| e.message)?;
        self.removed(channel_id);
        Ok(())
    }

    /// Renames a group (owners and admins); the name is checked here first.
    pub async fn rename(&self, channel_id: Uuid, name: &str) -> Result<(), String> {
        let name = ChannelName::parse(name).map_err(|e| e.to_string())?;
        let answer = api::rename_channel(channel_id, name.as_str().to_owned())
            .await
            .map_err(|e| e.message)?;
        self.took_members(answer);
        Ok(())
    }

    /// Mutes or unmutes a conversation for me: its unread messages leave (or rejoin) the
    /// global count at once.
    pub async fn mute(&self, channel_id: Uuid, muted: bool) -> Result<(), String> {
        let answer = api::mute_channel(channel_id, muted)
            .await
            .map_err(|e| e.message)?;
        self.update_channel(channel_id, |c| {
            c.muted = answer.muted;
            c.unread = answer.unread;
        });
        Ok(())
    }

    /// Asks the server again whom I block (`ready` and `blocks` events keep it current; this
    /// is for a host that wants to be sure, e.g. after a long time offline).
    pub async fn refresh_blocked(&self) -> Result<(), String> {
        let list = api::blocked_users().await.map_err(|e| e.message)?;
        self.set_blocked(list);
        Ok(())
    }

    /// Blocks or unblocks someone.
    pub async fn block(&self, user_id: Uuid, blocked: bool) -> Result<(), String> {
        let list = api::block_user(user_id, blocked)
            .await
            .map_err(|e| e.message)?;
        self.set_blocked(list);
        Ok(())
    }

    /// Reports a message to the host's moderators; the reason is checked here first.
    pub async fn report(&self, message_id: Uuid, reason: &str) -> Result<(), String> {
        let reason = ReportReason::parse(reason).map_err(|e| e.to_string())?;
        api::report_message(message_id, reason.as_str().to_owned())
            .await
            .map_err(|e| e.message)
    }
}
