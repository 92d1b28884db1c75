//! HTTP for plugins, through the wallet: only approved origins, redirects
//! re-checked at every hop, a timeout and a response size limit.

use std::time::{Duration, Instant};

use super::manifest::normalize_origin;

/// Longest a plugin's request may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Largest response body a plugin receives.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// A request from a plugin.
pub struct Request {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

/// The response a plugin sees.
pub struct Response {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request was refused or failed (told to the plugin, and audited).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Not an approved origin.
    #[error("origin {0} is not approved for this plugin")]
    Denied(String),
    /// Not a URL or method the wallet supports.
    #[error("{0}")]
    Invalid(String),
    /// The request failed.
    #[error("request failed: {0}")]
    Failed(String),
}

/// The wallet's HTTP client for plugins.
pub struct Client {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// Headers a plugin may not set.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "cookie",
    "authorization",
    "proxy-authorization",
    "content-length",
];

impl Client {
    /// A client (redirects are handled here, not by reqwest, to re-check them).
    pub fn new() -> Result<Client, HttpError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("amanat-plugin-host/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Failed(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HttpError::Failed(e.to_string()))?;
        Ok(Client { http, runtime })
    }

    /// Performs a request if every hop's origin is in `allowed`; `on_hop` is told
    /// each URL tried and whether it was allowed (for the audit log).
    pub fn fetch(
        &self,
        req: Request,
        allowed: &[String],
        deadline: Instant,
        mut on_hop: impl FnMut(&str, bool),
    ) -> Result<Response, HttpError> {
        let mut method = match req.method.to_ascii_uppercase().as_str() {
            m @ ("GET" | "POST" | "PUT" | "DELETE") => {
                reqwest::Method::from_bytes(m.as_bytes()).map_err(|e| HttpError::Invalid(e.to_string()))?
            }
            other => return Err(HttpError::Invalid(format!("method {other} is not allowed"))),
        };
        let mut url = reqwest::Url::parse(&req.url)
            .map_err(|e| HttpError::Invalid(format!("'{}' is not a URL: {e}", req.url)))?;
        let mut body = req.body;
        for _ in 0..=MAX_REDIRECTS {
            let origin = normalize_origin(url.as_str())
                .ok_or_else(|| HttpError::Invalid(format!("'{url}' is not an http(s) URL")))?;
            let ok = allowed.contains(&origin);
            on_hop(url.as_str(), ok);
            if !ok {
                return Err(HttpError::Denied(origin));
            }
            let mut builder = self.http.request(method.clone(), url.clone());
            for (k, v) in &req.headers {
                if !FORBIDDEN_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                    builder = builder.header(k, v);
                }
            }
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            // The plugin's call has a time limit; waiting on a server that never
            // answers must not outlast it (each hop's own TIMEOUT would).
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HttpError::Failed("the plugin's time limit has run out".into()));
            }
            let response = self.runtime.block_on(async {
                tokio::time::timeout(remaining, async {
                    let mut r = builder
                        .send()
                        .await
                        .map_err(|e| HttpError::Failed(e.to_string()))?;
                    let status = r.status();
                    let headers: Vec<(String, String)> = r
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                        .collect();
                    let mut bytes = Vec::new();
                    while let Some(chunk) = r.chunk().await.map_err(|e| HttpError::Failed(e.to_string()))? {
                        if bytes.len() + chunk.len() > MAX_BODY {
                            return Err(HttpError::Failed(format!(
                                "the response is larger than {MAX_BODY} bytes"
                            )));
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok::<_, HttpError>((status, headers, bytes))
                })
                .await
                .unwrap_or_else(|_| {
                    Err(HttpError::Failed(
                        "no answer before the plugin's time limit ran out".into(),
                    ))
                })
            })?;
            let (status, headers, bytes) = response;
            if status.is_redirection() {
                let location = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| HttpError::Failed("a redirect without a location".into()))?;
                url = url
                    .join(&location)
                    .map_err(|e| HttpError::Failed(format!("bad redirect: {e}")))?;
                if status == reqwest::StatusCode::SEE_OTHER {
                    method = reqwest::Method::GET;
                    body = None;
                }
                continue;
            }
            return Ok(Response {
                status: status.as_u16(),
                headers,
                body: bytes,
            });
        }
        Err(HttpError::Failed(format!("more than {MAX_REDIRECTS} redirects")))
    }
}
