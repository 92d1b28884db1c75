//! The relay's HTTP server (axum).
//!
//! | method | path                    | who            | what                                  |
//! |--------|-------------------------|----------------|---------------------------------------|
//! | POST   | `/v1/shares`            | patient        | upload `{grant, ciphertext}`          |
//! | GET    | `/v1/shares/{id}`       | link holder    | the ciphertext; counts a use          |
//! | DELETE | `/v1/shares/{id}`       | patient, signed| revoke: the ciphertext is deleted     |
//! | GET    | `/v1/shares/{id}/log`   | patient, signed| uses, limit, expiry, access log       |
//! | POST   | `/v1/shl/{id}`          | link holder    | a SMART Health Link's manifest ([`links`]) |
//! | GET    | `/v1/shl/{id}`          | link holder    | a SMART Health Link's file            |
//! | GET    | `/health`               | anyone         | `ok`, or 503 when the store is down   |
//! | GET    | `/metrics`              | anyone         | counters, Prometheus text format      |
//!
//! Before any body is read, an upload's declared `Content-Length` is checked
//! against the size limit, and the client (the peer, or whom a trusted proxy
//! forwarded for) passes the rate limit kept in the store.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};

use super::clients::{Cidr, bucket, client_address};
use super::metrics::Metrics;
use super::store::{LinkGate, PasscodeCheck, Quotas, ShareMeta, ShareStore};
use super::{LinkUpload, RelayError, SIGNATURE_WINDOW, Upload, signing_message};
use crate::clock::Clock;
use crate::share::grant::{Grant, Grantee, SignedGrant};
use crate::webapp::WebApp;

mod links;

/// Longest a share may live at the relay.
pub const MAX_LIFETIME: i64 = 366 * 24 * 3600;

/// Settings for a relay.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest ciphertext accepted, bytes.
    pub max_bytes: usize,
    /// Requests a second per client address (0: no limit); bursts of twice that.
    pub rate_per_second: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
    /// Upload quotas per patient key and the store's size limit.
    pub quotas: Quotas,
    /// Dates uses, expiry, signatures and rate windows (the machine's, but for tests).
    pub clock: Clock,
    /// The built share viewer, served at `/` so the relay's address opens
    /// the relay's shares on a phone; `None`: a page saying it was not built.
    pub viewer: Option<crate::webapp::Files>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_bytes: 8 * 1024 * 1024,
            rate_per_second: 20,
            trusted_proxies: Vec::new(),
            quotas: Quotas::default(),
            clock: Clock::System,
            viewer: None,
        }
    }
}

impl Config {
    /// Largest request body: the ciphertext in base64 plus room for the grant.
    fn body_limit(&self) -> usize {
        self.max_bytes / 3 * 4 + 64 * 1024
    }
}

/// The relay's shared state. Relays hold nothing a second relay on the same
/// store would need: every count, bucket and quota is in the store.
pub struct Relay {
    store: Arc<dyn ShareStore>,
    config: Config,
    metrics: Metrics,
    viewer: WebApp,
}

/// The client a request came from (see [`client_address`]).
#[derive(Debug, Clone, Copy)]
struct Client(IpAddr);

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// Route patterns, as metrics label them.
const ROUTES: [&str; 8] = [
    "/",
    "/{file}",
    "/health",
    "/metrics",
    "/v1/shares",
    "/v1/shares/{id}",
    "/v1/shares/{id}/log",
    "/v1/shl/{id}",
];
const FETCH_ROUTE: &str = "/v1/shares/{id}";

impl Relay {
    /// A relay over a store.
    pub fn new(store: Arc<dyn ShareStore>, config: Config) -> Arc<Relay> {
        Arc::new(Relay {
            store,
            viewer: WebApp::load(config.viewer.clone(), VIEWER_NOT_BUILT).compressed(),
            config,
            metrics: Metrics::default(),
        })
    }

    /// Whether it serves the share viewer (else a page saying it was not built).
    pub fn serves_viewer(&self) -> bool {
        self.viewer.is_built()
    }

    /// What is checked before a request's body is read: the declared size
    /// (free), then the client's rate (in the store, so it holds across relays).
    async fn admit(
        &self,
        client: IpAddr,
        route: &str,
        declared_length: Option<u64>,
    ) -> Result<(), RelayError> {
        if declared_length.is_some_and(|n| n > self.config.body_limit() as u64) {
            return Err(RelayError::TooLarge);
        }
        if route != "/health" && route != "/metrics" && self.config.rate_per_second > 0 {
            let ok = self
                .store
                .admit(
                    &bucket(client),
                    self.config.rate_per_second,
                    self.config.clock.now_ms(),
                )
                .await?;
            if !ok {
                return Err(RelayError::RateLimited);
            }
        }
        Ok(())
    }

    /// Checks `Authorization: Amanat-Signature t=<time>,sig=<base64url>` against
    /// the share's owner, for `method` on `/v1/shares/{id}{below}`.
    async fn authorize(
        &self,
        id: &str,
        method: &str,
        below: &str,
        headers: &HeaderMap,
    ) -> Result<(), RelayError> {
        let meta = self.store.meta(id).await?;
        let signed = Signed::parse(headers)?.ok_or(RelayError::Unauthorized)?;
        signed.verify(
            &meta.owner,
            method,
            &share_path(id, below),
            self.config.clock.now(),
        )
    }
}

/// The path a share's requests are signed for: `/v1/shares/{id}{below}`.
fn share_path(id: &str, below: &str) -> String {
    format!("/v1/shares/{id}{below}")
}

/// `Authorization: Amanat-Signature t=<time>,sig=<base64url>[,key=<base64url>]`:
/// an ed25519 signature of [`signing_message`]. `key` names the signer where
/// the relay cannot know it (a provider fetching a share made for them).
struct Signed {
    time: i64,
    sig: [u8; 64],
    key: Option<[u8; 32]>,
}

impl Signed {
    /// The header's signature, if the request has one; a malformed one is refused.
    fn parse(headers: &HeaderMap) -> Result<Option<Signed>, RelayError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Amanat-Signature "))
            .ok_or(RelayError::Unauthorized)?;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok();
        let (mut time, mut sig, mut key) = (None, None, None);
        for part in value.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => time = t.parse::<i64>().ok(),
                Some(("sig", s)) => sig = b64(s).and_then(|s| <[u8; 64]>::try_from(s).ok()),
                Some(("key", k)) => {
                    key = Some(
                        b64(k)
                            .and_then(|k| <[u8; 32]>::try_from(k).ok())
                            .ok_or(RelayError::Unauthorized)?,
                    )
                }
                _ => {}
            }
        }
        let (time, sig) = time.zip(sig).ok_or(RelayError::Unauthorized)?;
        Ok(Some(Signed { time, sig, key }))
    }

    /// Checks the signature against `key`, for this method and path, at `now`.
    fn verify(&self, key: &[u8; 32], method: &str, path: &str, now: i64) -> Result<(), RelayError> {
        // The time is the requester's: no arithmetic on it may overflow.
        if now
            .checked_sub(self.time)
            .is_none_or(|d| d.unsigned_abs() > SIGNATURE_WINDOW.unsigned_abs())
        {
            return Err(RelayError::Unauthorized);
        }
        let key = VerifyingKey::from_bytes(key).map_err(|_| RelayError::Unauthorized)?;
        key.verify_strict(
            signing_message(method, path, self.time).as_bytes(),
            &Signature::from_bytes(&self.sig),
        )
        .map_err(|_| RelayError::Unauthorized)
    }

    /// The key that signed this request, verified.
    fn signer(&self, method: &str, path: &str, now: i64) -> Result<[u8; 32], RelayError> {
        let key = self.key.ok_or(RelayError::Unauthorized)?;
        self.verify(&key, method, path, now)?;
        Ok(key)
    }
}

/// Finds the client, refuses what must be refused before the body is read,
/// and counts the answer.
async fn guard(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let matched = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let route = ROUTES
        .iter()
        .copied()
        .find(|r| Some(*r) == matched)
        .unwrap_or("other");
    let is_fetch = route == FETCH_ROUTE && req.method() == Method::GET;
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let client = client_address(peer.ip(), forwarded, &relay.config.trusted_proxies);
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    req.extensions_mut().insert(Client(client));
    let response = match relay.admit(client, route, declared_length).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    let status = response.status().as_u16();
    relay.metrics.request(route, status);
    if is_fetch {
        relay.metrics.fetch_took(started.elapsed());
    }
    if status == 500 || status == 503 {
        relay.metrics.store_error();
    }
    response
}

async fn upload(State(relay): State<Arc<Relay>>, Json(up): Json<Upload>) -> Result<Response, RelayError> {
    let signed = SignedGrant::parse(&up.grant).map_err(|e| RelayError::BadRequest(e.to_string()))?;
    let (grant, key) = signed
        .verify()
        .map_err(|e| RelayError::BadRequest(e.to_string()))?;
    let now = relay.config.clock.now();
    if grant.exp <= now {
        return Err(RelayError::BadRequest("the grant has already expired".into()));
    }
    if grant.exp - now > MAX_LIFETIME {
        return Err(RelayError::BadRequest("shares may last at most a year".into()));
    }
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(up.ciphertext.as_bytes())
        .map_err(|_| RelayError::BadRequest("the ciphertext is not base64".into()))?;
    if ciphertext.len() > relay.config.max_bytes {
        return Err(RelayError::TooLarge);
    }
    let link = match &up.link {
        None if !ciphertext.starts_with(b"age-encryption.org/v1\n") => {
            return Err(RelayError::BadRequest("the ciphertext is not an age file".into()));
        }
        None => None,
        Some(link) => Some(link_gate(&grant, link, &ciphertext)?),
    };
    let reader = match &grant.to {
        Grantee::Provider { key, .. } => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(key)
                .ok()
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .ok_or_else(|| {
                    RelayError::BadRequest("the provider's key in the grant is not an ed25519 key".into())
                })?,
        ),
        Grantee::Bearer => None,
    };
    let meta = ShareMeta {
        owner: key.to_bytes(),
        nbf: grant.nbf,
        exp: grant.exp,
        max_uses: grant.uses,
        uses: 0,
        revoked: false,
        reader,
        link,
    };
    relay
        .store
        .put(&grant.jti, meta, &ciphertext, now, relay.config.quotas)
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": grant.jti }))).into_response())
}

/// The gate of a SMART Health Link upload: its file is a compact JWE (the
/// relay cannot read it, but refuses what no viewer could), for whoever holds
/// the link (never a named provider: the link is the credential), with a
/// passcode check when it has one.
fn link_gate(grant: &Grant, link: &LinkUpload, file: &[u8]) -> Result<LinkGate, RelayError> {
    if !matches!(grant.to, Grantee::Bearer) {
        return Err(RelayError::BadRequest(
            "a SMART Health Link is for whoever holds it, not a named provider".into(),
        ));
    }
    let jwe = std::str::from_utf8(file).ok().filter(|t| {
        t.split('.').count() == 5
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    });
    if jwe.is_none() {
        return Err(RelayError::BadRequest(
            "a SMART Health Link's file is a compact JWE".into(),
        ));
    }
    let passcode = match link.passcode.as_deref() {
        None => None,
        Some(p) if p.is_empty() || p.chars().count() > 200 => {
            return Err(RelayError::BadRequest(
                "a link's passcode is 1 to 200 characters".into(),
            ));
        }
        Some(p) => Some(PasscodeCheck::new(p)),
    };
    Ok(LinkGate {
        passcode,
        attempts_left: crate::share::shl::PASSCODE_ATTEMPTS,
    })
}

async fn fetch(
    State(relay): State<Arc<Relay>>,
    Extension(Client(client)): Extension<Client>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    // A signed fetch names its signer; the store answers a provider's share
    // only to that provider, before it counts a use.
    let now = relay.config.clock.now();
    let signer = match Signed::parse(&headers)? {
        Some(signed) => Some(signed.signer("GET", &share_path(&id, ""), now)?),
        None => None,
    };
    let bytes = relay
        .store
        .fetch(&id, now, &client.to_string(), signer, false)
        .await?;
    let mut response = Bytes::from(bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn revoke(
    State(relay): State<Arc<Relay>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    relay.authorize(&id, "DELETE", "", &headers).await?;
    relay.store.revoke(&id, relay.config.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn log(
    State(relay): State<Arc<Relay>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    relay.authorize(&id, "GET", "/log", &headers).await?;
    Ok(Json(relay.store.status(&id).await?).into_response())
}

/// `ok` while the store answers; 503 with the reason when it does not, so a
/// load balancer takes this relay out until its store is back.
async fn health(State(relay): State<Arc<Relay>>) -> Result<&'static str, RelayError> {
    relay.store.ping().await?;
    Ok("ok")
}

async fn metrics(State(relay): State<Arc<Relay>>) -> Response {
    let usage = relay.store.usage(relay.config.clock.now()).await.ok();
    let mut response = relay.metrics.render(usage).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

const VIEWER_NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Amanat relay</title>\
<p>This Amanat relay holds encrypted shares. Its share viewer was not built: run \
<code>scripts/start</code> (or <code>trunk build wallet-web/viewer.html --dist target/viewer --public-url ./</code>) \
and start the relay again, or give it <code>--viewer DIR</code>.";

/// The share viewer's files, with the headers a page holding a share's key
/// needs ([`WebApp::guard`]).
async fn viewer(State(relay): State<Arc<Relay>>, req: Request) -> Response {
    let mut response = relay.viewer.respond(req.uri().path(), req.headers()).await;
    relay.viewer.guard(response.headers_mut());
    response
}

/// The relay's routes: the share viewer at `/`, the API under `/v1/`.
/// Fetches carry CORS headers so a doctor's browser on any origin can read
/// the (encrypted) share.
pub fn router(relay: Arc<Relay>) -> Router {
    let limit = relay.config.body_limit();
    Router::new()
        .route("/", get(viewer))
        .route("/{file}", get(viewer))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/shares", axum::routing::post(upload))
        .route("/v1/shares/{id}", get(fetch).delete(revoke))
        .route("/v1/shares/{id}/log", get(log))
        .route(
            "/v1/shl/{id}",
            get(links::file).post(links::manifest).options(links::preflight),
        )
        .route_layer(axum::middleware::from_fn_with_state(relay.clone(), guard))
        .layer(axum::middleware::map_response(|mut r: Response| async move {
            r.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            r
        }))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(relay)
}

/// Serves until the future `shutdown` completes, purging expired shares every minute.
pub async fn serve(
    listener: tokio::net::TcpListener,
    relay: Arc<Relay>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (store, clock) = (relay.store.clone(), relay.config.clock);
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = store.purge(clock.now()).await {
                eprintln!("relay: purging expired shares failed: {e}");
            }
        }
    });
    let app = router(relay).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    purger.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_time_in_a_signature_is_refused_or_checked_without_overflow() {
        for time in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
            let signed = Signed {
                time,
                sig: [0; 64],
                key: None,
            };
            assert_eq!(
                signed.verify(&[0; 32], "GET", "/v1/shares/a", Clock::System.now()),
                Err(RelayError::Unauthorized),
                "{time}"
            );
        }
    }
}
