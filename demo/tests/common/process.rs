//! The real server binary as a child process, for tests that kill it or its database.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary on a free port against this test's database.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// The server with more environment variables (the chat's `PARLEY_*` settings).
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("address")
        };
        let child = Command::new(env!("CARGO_BIN_EXE_parley"))
            // Where Leptos.toml is, as when the binary runs from the workspace.
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("RUST_LOG", "warn")
            .env("PARLEY_SENDS_PER_MINUTE", "1000000")
            .env("PARLEY_SEND_BURST", "100000")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, addr }
    }

    /// SIGTERM, as an orchestrator stops an instance: waits for the process to end (at most
    /// 60 s) and returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "SIGTERM sent");
        let started = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return false,
            }
        }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange with a child server: `(status, body)`.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<&str>,
) -> (u16, String) {
    http_with(addr, method, path, &format!("Cookie: {cookie}"), body).await
}

/// [`http`] with any header line (`Name: value`) instead of the cookie.
pub async fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    header: &str,
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{header}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 30 s")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A PostgreSQL cluster of the test's own (scripts/pg-scratch.sh), to stop and start at will.
pub struct Cluster {
    dir: String,
    pub port: u16,
}

impl Cluster {
    pub fn create() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = format!("/var/tmp/parley-outage-{}-{port}", std::process::id());
        let cluster = Self { dir, port };
        cluster.run("start");
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        self.run("stop");
    }

    pub fn start(&self) {
        self.run("start");
    }

    fn run(&self, action: &str) {
        let status = Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scripts/pg-scratch.sh"
            ))
            .arg(action)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .status()
            .expect("pg-scratch.sh runs");
        assert!(status.success(), "pg-scratch.sh {action} failed");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([
                concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-scratch.sh"),
                "remove",
                &self.dir,
            ])
            .status();
    }
}
