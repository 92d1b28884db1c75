//! The relay's HTTP server (axum).
//!
//! | method | path                    | who            | what                                  |
//! |--------|-------------------------|----------------|---------------------------------------|
//! | POST   | `/v1/shares`            | patient        | upload `{grant, ciphertext}`          |
//! | GET    | `/v1/shares/{id}`       | link holder    | the ciphertext; counts a use          |
//! | DELETE | `/v1/shares/{id}`       | patient, signed| revoke: the ciphertext is deleted     |
//! | GET    | `/v1/shares/{id}/log`   | patient, signed| uses, limit, expiry, access log       |
//! | GET    | `/health`               | anyone         | `ok`                                  |

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};

use super::store::{ShareMeta, ShareStore};
use super::{RelayError, SIGNATURE_WINDOW, Upload, signing_message};
use crate::grant::SignedGrant;

/// Longest a share may live at the relay.
pub const MAX_LIFETIME: i64 = 366 * 24 * 3600;

/// Settings for a relay.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest ciphertext accepted, bytes.
    pub max_bytes: usize,
    /// Requests a second per client address (0: no limit); bursts of twice that.
    pub rate_per_second: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_bytes: 8 * 1024 * 1024,
            rate_per_second: 20,
        }
    }
}

/// The relay's shared state.
pub struct Relay {
    store: Arc<dyn ShareStore>,
    config: Config,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Relay {
    /// A relay over a store.
    pub fn new(store: Arc<dyn ShareStore>, config: Config) -> Arc<Relay> {
        Arc::new(Relay {
            store,
            config,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Token bucket per client address.
    fn admit(&self, ip: IpAddr) -> Result<(), RelayError> {
        let rate = f64::from(self.config.rate_per_second);
        if rate == 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle clients rather than grow without bound.
            buckets.retain(|_, (_, last)| last.elapsed() < Duration::from_secs(60));
        }
        let now = Instant::now();
        let (tokens, last) = buckets.entry(ip).or_insert((2.0 * rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(2.0 * rate);
        *last = now;
        if *tokens < 1.0 {
            return Err(RelayError::RateLimited);
        }
        *tokens -= 1.0;
        Ok(())
    }

    /// Checks `Authorization: Amanat-Signature t=<time>,sig=<base64url>` against the share's owner.
    fn authorize(&self, id: &str, method: &str, path: &str, headers: &HeaderMap) -> Result<(), RelayError> {
        let meta = self.store.meta(id)?;
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Amanat-Signature "))
            .ok_or(RelayError::Unauthorized)?;
        let mut time = None;
        let mut sig = None;
        for part in value.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => time = t.parse::<i64>().ok(),
                Some(("sig", s)) => sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok(),
                _ => {}
            }
        }
        let (time, sig) = time.zip(sig).ok_or(RelayError::Unauthorized)?;
        if (now() - time).abs() > SIGNATURE_WINDOW {
            return Err(RelayError::Unauthorized);
        }
        let sig: [u8; 64] = sig.try_into().map_err(|_| RelayError::Unauthorized)?;
        let key = VerifyingKey::from_bytes(&meta.owner).map_err(|_| RelayError::Unauthorized)?;
        key.verify_strict(
            signing_message(method, path, time).as_bytes(),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| RelayError::Unauthorized)
    }
}

async fn upload(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(up): Json<Upload>,
) -> Result<Response, RelayError> {
    relay.admit(addr.ip())?;
    let signed = SignedGrant::parse(&up.grant).map_err(|e| RelayError::BadRequest(e.to_string()))?;
    let (grant, key) = signed
        .verify()
        .map_err(|e| RelayError::BadRequest(e.to_string()))?;
    let now = now();
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
    if !ciphertext.starts_with(b"age-encryption.org/v1\n") {
        return Err(RelayError::BadRequest("the ciphertext is not an age file".into()));
    }
    let meta = ShareMeta {
        owner: key.to_bytes(),
        nbf: grant.nbf,
        exp: grant.exp,
        max_uses: grant.uses,
        uses: 0,
        revoked: false,
    };
    relay.store.put(&grant.jti, meta, &ciphertext)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": grant.jti }))).into_response())
}

async fn fetch(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Response, RelayError> {
    relay.admit(addr.ip())?;
    let bytes = relay.store.fetch(&id, now(), &addr.ip().to_string())?;
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
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    relay.admit(addr.ip())?;
    relay.authorize(&id, "DELETE", &format!("/v1/shares/{id}"), &headers)?;
    relay.store.revoke(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn log(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    relay.admit(addr.ip())?;
    relay.authorize(&id, "GET", &format!("/v1/shares/{id}/log"), &headers)?;
    Ok(Json(relay.store.status(&id)?).into_response())
}

/// The relay's routes. Fetches carry CORS headers so a doctor's browser on any
/// origin can read the (encrypted) share.
pub fn router(relay: Arc<Relay>) -> Router {
    let limit = relay.config.max_bytes / 3 * 4 + 64 * 1024;
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/shares", axum::routing::post(upload))
        .route("/v1/shares/{id}", get(fetch).delete(revoke))
        .route("/v1/shares/{id}/log", get(log))
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
    let store = relay.store.clone();
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let store = store.clone();
            let _ = tokio::task::spawn_blocking(move || store.purge(now())).await;
        }
    });
    let app = router(relay).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    purger.abort();
    result
}
