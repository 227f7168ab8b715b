//! The chat's configuration, loaded and checked once at start-up from the environment:
//! `PARLEY_PUBLIC_ORIGIN` (default `http://<site address>`), the limits listed in
//! [`LIMIT_VARIABLES`] and docs/API.md, the attachments' folder and sizes (`uploads`), and the server API's `PARLEY_SERVER_SECRET`,
//! `PARLEY_WEBHOOK_URL` and `PARLEY_WEBHOOK_TIMEOUT_SECS`. The host reads its own (database,
//! address, pages).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use thiserror::Error;

use super::attachments::UploadSettings;
use super::limits::{LimitSettings, Rate};
use super::secret::{ServerSecret, MIN_SECRET_CHARS};
use super::state::{ServeSettings, Settings};
use super::webhook::WebhookSettings;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name} must be {expected}, not `{value}`")]
    Invalid {
        name: String,
        expected: &'static str,
        value: String,
    },
    /// Said without the value: it is a secret.
    #[error("PARLEY_SERVER_SECRET must be at least {MIN_SECRET_CHARS} characters long")]
    WeakSecret,
    #[error("PARLEY_WEBHOOK_URL needs PARLEY_SERVER_SECRET (webhooks are signed with it)")]
    WebhooksWithoutSecret,
}

/// The chat's configuration for a host serving on `site_addr`.
pub struct ChatConfig {
    /// Where the app is served (`PARLEY_PUBLIC_ORIGIN`, default `http://<site address>`).
    pub public_origin: String,
    site_addr: SocketAddr,
    settings: Settings,
}

/// The per-minute rates and bursts that can be set, as `<NAME>_PER_MINUTE` and `<NAME>_BURST`.
pub const LIMIT_VARIABLES: [&str; 12] = [
    "PARLEY_SENDS",
    "PARLEY_CHANNELS",
    "PARLEY_EDITS",
    "PARLEY_READS",
    "PARLEY_TYPING",
    "PARLEY_REPLAYS",
    "PARLEY_SEARCHES",
    "PARLEY_CONNECTS",
    "PARLEY_SIGN_IN_FAILURES",
    "PARLEY_SIGN_IN_FAILURES_PER_NAME",
    "PARLEY_SIGN_UPS",
    "PARLEY_UPLOADS",
];

impl ChatConfig {
    /// Reads `PARLEY_PUBLIC_ORIGIN` and every limit from the environment, once at start-up.
    pub fn from_env(site_addr: SocketAddr) -> Result<Self, ConfigError> {
        let public_origin = env("PARLEY_PUBLIC_ORIGIN")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let settings = settings(&public_origin, site_addr.ip())?;
        Ok(Self {
            public_origin,
            site_addr,
            settings,
        })
    }

    pub fn settings(&self) -> Settings {
        self.settings.clone()
    }

    /// What an operator should hear about at start: plain http where it is not loopback.
    pub fn warnings(&self) -> Vec<String> {
        warnings(&self.public_origin, self.site_addr)
    }
}

fn warnings(public_origin: &str, site_addr: std::net::SocketAddr) -> Vec<String> {
    let mut warnings = Vec::new();
    let host = public_origin
        .strip_prefix("http://")
        .map(|rest| rest.split(['/', ':']).next().unwrap_or(rest));
    let loopback =
        |name: &str| name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if let Some(host) = host {
        if !loopback(host) && !host.starts_with('[') {
            warnings.push(format!(
                    "PARLEY_PUBLIC_ORIGIN is plain http on a non-loopback host ({public_origin}): sessions \
                     and messages cross the network unencrypted; serve https behind a proxy \
                     and set PARLEY_PUBLIC_ORIGIN=https://…"
                ));
        }
        if !site_addr.ip().is_loopback() {
            warnings.push(format!(
                "listening on {site_addr} (not loopback) over plain http"
            ));
        }
    }
    warnings
}

fn settings(public_origin: &str, listen_ip: IpAddr) -> Result<Settings, ConfigError> {
    let defaults = Settings::default();
    let limits = LimitSettings::default();
    let origin_host = public_origin
        .split_once("://")
        .map_or(public_origin, |(_, rest)| rest);
    let origin_is_loopback = origin_host.starts_with("localhost")
        || origin_host.starts_with("127.")
        || origin_host.starts_with("[::1]");
    let rate = |name: &'static str, default: Rate| -> Result<Rate, ConfigError> {
        Ok(Rate {
            per_minute: number(&format!("{name}_PER_MINUTE"))?.unwrap_or(default.per_minute),
            burst: number(&format!("{name}_BURST"))?.unwrap_or(default.burst),
        })
    };
    let trusted_proxies = match env("PARLEY_TRUSTED_PROXIES") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpAddr>().map_err(|_| ConfigError::Invalid {
                    name: "PARLEY_TRUSTED_PROXIES".into(),
                    expected: "a comma-separated list of IP addresses",
                    value: p.to_owned(),
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let serve = ServeSettings::default();
    let server_secret = env("PARLEY_SERVER_SECRET")
        .map(|secret| ServerSecret::new(secret).map_err(|_| ConfigError::WeakSecret))
        .transpose()?;
    let webhooks = match env("PARLEY_WEBHOOK_URL") {
        None => None,
        Some(_) if server_secret.is_none() => return Err(ConfigError::WebhooksWithoutSecret),
        Some(url) => {
            let mut webhooks = WebhookSettings::new(&url).ok_or_else(|| ConfigError::Invalid {
                name: "PARLEY_WEBHOOK_URL".into(),
                expected: "an http:// or https:// URL",
                value: url.clone(),
            })?;
            if let Some(timeout) = seconds("PARLEY_WEBHOOK_TIMEOUT_SECS")? {
                webhooks.timeout = timeout;
            }
            Some(webhooks)
        }
    };
    let mut sends = rate("PARLEY_SENDS", limits.sends)?;
    // The first name of the burst's variable keeps working.
    if let Some(burst) = number("PARLEY_SEND_BURST")? {
        sends.burst = burst;
    }
    Ok(Settings {
        secure_cookies: public_origin.starts_with("https://"),
        public_origin: public_origin.to_owned(),
        // Listening on every address without a public origin (`0.0.0.0`, a container): the
        // loopback names still work; other names need PARLEY_PUBLIC_ORIGIN (warned at start).
        loopback_hosts: listen_ip.is_loopback() || listen_ip.is_unspecified() || origin_is_loopback,
        limits: LimitSettings {
            sends,
            channels: rate("PARLEY_CHANNELS", limits.channels)?,
            edits: rate("PARLEY_EDITS", limits.edits)?,
            reads: rate("PARLEY_READS", limits.reads)?,
            typing: rate("PARLEY_TYPING", limits.typing)?,
            replays: rate("PARLEY_REPLAYS", limits.replays)?,
            searches: rate("PARLEY_SEARCHES", limits.searches)?,
            connects: rate("PARLEY_CONNECTS", limits.connects)?,
            sign_in_failures: rate("PARLEY_SIGN_IN_FAILURES", limits.sign_in_failures)?,
            sign_in_failures_per_name: rate(
                "PARLEY_SIGN_IN_FAILURES_PER_NAME",
                limits.sign_in_failures_per_name,
            )?,
            sign_ups: rate("PARLEY_SIGN_UPS", limits.sign_ups)?,
            uploads: rate("PARLEY_UPLOADS", limits.uploads)?,
            sockets_per_user: number("PARLEY_SOCKETS_PER_USER")?
                .map_or(limits.sockets_per_user, |n| n as usize),
            sockets_per_address: number("PARLEY_SOCKETS_PER_ADDRESS")?
                .map_or(limits.sockets_per_address, |n| n as usize),
            trusted_proxies,
        },
        socket_write_timeout: seconds("PARLEY_SOCKET_WRITE_TIMEOUT_SECS")?
            .unwrap_or(defaults.socket_write_timeout),
        serve: ServeSettings {
            header_read_timeout: seconds("PARLEY_HEADER_TIMEOUT_SECS")?
                .unwrap_or(serve.header_read_timeout),
            request_timeout: seconds("PARLEY_REQUEST_TIMEOUT_SECS")?
                .unwrap_or(serve.request_timeout),
            max_connections: number("PARLEY_MAX_CONNECTIONS")?
                .map_or(serve.max_connections, |n| n as usize),
        },
        server_secret,
        webhooks,
        uploads: uploads()?,
    })
}

/// `PARLEY_DATA_DIR` (default `.data`; files in its `attachments` folder),
/// `PARLEY_MAX_UPLOAD_BYTES`, `PARLEY_UPLOAD_QUOTA_BYTES`, `PARLEY_UNATTACHED_UPLOAD_SECS`,
/// `PARLEY_UPLOAD_TIMEOUT_SECS`.
fn uploads() -> Result<UploadSettings, ConfigError> {
    let defaults = UploadSettings::default();
    let data = env("PARLEY_DATA_DIR").unwrap_or_else(|| ".data".to_owned());
    Ok(UploadSettings {
        dir: std::path::Path::new(&data).join("attachments"),
        max_bytes: bytes("PARLEY_MAX_UPLOAD_BYTES")?.unwrap_or(defaults.max_bytes),
        quota_bytes: bytes("PARLEY_UPLOAD_QUOTA_BYTES")?.unwrap_or(defaults.quota_bytes),
        unattached_after: seconds("PARLEY_UNATTACHED_UPLOAD_SECS")?
            .unwrap_or(defaults.unattached_after),
        timeout: seconds("PARLEY_UPLOAD_TIMEOUT_SECS")?.unwrap_or(defaults.timeout),
    })
}

fn bytes(name: &str) -> Result<Option<u64>, ConfigError> {
    match env(name) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name: name.to_owned(),
                expected: "a number of bytes",
                value,
            }),
    }
}

fn number(name: &str) -> Result<Option<u32>, ConfigError> {
    match env(name) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name: name.to_owned(),
                expected: "a whole number",
                value,
            }),
    }
}

fn seconds(name: &str) -> Result<Option<Duration>, ConfigError> {
    Ok(number(name)?.map(|n| Duration::from_secs(u64::from(n.max(1)))))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_off_loopback_is_warned_about() {
        let loopback: std::net::SocketAddr = ([127, 0, 0, 1], 3000).into();
        let everywhere: std::net::SocketAddr = ([0, 0, 0, 0], 3000).into();
        assert!(warnings("http://127.0.0.1:3000", loopback).is_empty());
        assert!(warnings("http://localhost:3000", loopback).is_empty());
        assert!(warnings("https://chat.example.com", everywhere).is_empty());
        assert_eq!(warnings("http://chat.example.com", loopback).len(), 1);
        assert_eq!(warnings("http://192.168.1.20:3000", everywhere).len(), 2);
        assert_eq!(warnings("http://127.0.0.1:3000", everywhere).len(), 1);
    }
}
