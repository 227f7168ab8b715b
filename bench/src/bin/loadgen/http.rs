//! A plain HTTP/1.1 client on one keep-alive connection (hyper), as a browser tab uses one: the
//! session cookie on every request, gzip only when asked for (to measure transfer sizes).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::fixture::cookie;
use crate::Failure;

/// Longest any benchmark request may take before the run fails instead of hanging.
const REQUEST_WITHIN: Duration = Duration::from_secs(30);

pub struct Http {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    cookie: Option<String>,
}

pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub content_encoding: Option<String>,
    pub elapsed: Duration,
}

impl Http {
    /// A connection to `addr`, signed in with `token` when given.
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Self, Failure> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection task ends when the sender is dropped or the server closes.
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
            cookie: token.map(cookie),
        })
    }

    pub async fn get(&mut self, path: &str, gzip: bool) -> Result<Reply, Failure> {
        self.request(Method::GET, path, None, gzip).await
    }

    /// `GET path` offering exactly `accept_encoding` (as `gzip, deflate, br` from a browser).
    pub async fn get_encoded(
        &mut self,
        path: &str,
        accept_encoding: &'static str,
    ) -> Result<Reply, Failure> {
        self.send(Method::GET, path, None, Some(accept_encoding))
            .await
    }

    /// Sends one request (a JSON body when given) and reads the whole answer; times both.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        json: Option<String>,
        gzip: bool,
    ) -> Result<Reply, Failure> {
        let body = json.map(|json| ("application/json", Bytes::from(json)));
        self.send(method, path, body, gzip.then_some("gzip")).await
    }

    /// `POST path` with `bytes` as the raw body (an upload).
    pub async fn post_bytes(
        &mut self,
        path: &str,
        content_type: &'static str,
        bytes: Bytes,
    ) -> Result<Reply, Failure> {
        self.send(Method::POST, path, Some((content_type, bytes)), None)
            .await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
        accept_encoding: Option<&'static str>,
    ) -> Result<Reply, Failure> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", &self.host);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if method != Method::GET {
            // Browsers say where a state-changing request comes from; the server checks it.
            request = request.header("origin", format!("http://{}", self.host));
        }
        if let Some(encodings) = accept_encoding {
            request = request.header("accept-encoding", encodings);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                request = request.header("content-type", content_type);
                Full::new(bytes)
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body)?;
        let started = Instant::now();
        let answer = tokio::time::timeout(REQUEST_WITHIN, async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status().as_u16();
            let content_encoding = response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Failure>((status, content_encoding, body))
        })
        .await??;
        Ok(Reply {
            status: answer.0,
            content_encoding: answer.1,
            body: answer.2,
            elapsed: started.elapsed(),
        })
    }
}
