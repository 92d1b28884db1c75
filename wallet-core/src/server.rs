//! `amanat serve`: the web wallet and its JSON API on the loopback interface.
//!
//! The server is a thin layer over the same library calls the CLI makes. Its own
//! job is guarding the door:
//!
//! - it listens on 127.0.0.1 only;
//! - every request, page or API, must carry a `Host` header naming the loopback
//!   address and port it serves, which defeats DNS rebinding;
//! - every API request must carry the session token (`Authorization: Bearer
//!   …`), which a page gets only by trading a one-time login code
//!   ([`session`]), so other local users' processes and web pages cannot use
//!   the wallet;
//! - a strict Content-Security-Policy, no CORS, `no-store` on the API;
//! - the wallet starts locked (unless `$AMANAT_PASSPHRASE` is set) and locks
//!   again after a period without requests.

mod api;
pub mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::clock::Clock;
use crate::vault::Vault;
use crate::webapp::WebApp;

/// How `amanat serve` runs.
pub struct Options {
    /// The wallet directory.
    pub vault_dir: PathBuf,
    /// The built web wallet (Trunk's output); `None` serves a notice.
    pub web: Option<crate::webapp::Files>,
    /// The session token and its login codes.
    pub sessions: Arc<session::Sessions>,
    /// Lock after this long without requests.
    pub idle_lock: Duration,
    /// Unlock at start with this passphrase.
    pub passphrase: Option<SecretString>,
    /// scrypt work factor for wallets created from the web.
    pub kdf_log_n: u8,
    /// The wallet's clock (the machine's, but for tests).
    pub clock: Clock,
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Amanat</title>\
<p>The web wallet has not been built. Run <code>scripts/start</code> (or <code>trunk build --release</code>) \
and start <code>amanat serve</code> again; the command line works meanwhile.";

/// A plugin run waiting for the patient to confirm its proposed records.
struct PendingRun {
    plugin: String,
    profile: crate::ids::ProfileId,
    proposals: Vec<crate::plugin::Proposal>,
}

/// Everything the handlers share.
pub(crate) struct AppState {
    opts: Options,
    hosts: Vec<String>,
    vault: Mutex<Option<Arc<Mutex<Vault>>>>,
    last_seen: Mutex<Instant>,
    web: WebApp,
    plugins: Mutex<Option<Arc<crate::plugin::runtime::Runtime>>>,
    pending: Mutex<HashMap<String, PendingRun>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    fn vault(&self) -> Option<Arc<Mutex<Vault>>> {
        lock(&self.vault).clone()
    }

    fn plugins(&self) -> Result<Arc<crate::plugin::runtime::Runtime>, crate::plugin::PluginError> {
        let mut slot = lock(&self.plugins);
        if let Some(r) = slot.as_ref() {
            return Ok(r.clone());
        }
        let r = Arc::new(crate::plugin::runtime::Runtime::new(Default::default())?);
        *slot = Some(r.clone());
        Ok(r)
    }
}

/// Refuses any request whose `Host` is not this server's loopback address.
async fn check_host(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !state.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "This wallet answers only on its own loopback address.",
        )
            .into_response();
    }
    let is_api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    state.web.guard(h);
    if is_api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses API requests without the session token.
async fn check_token(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !state.opts.sessions.is_token(given) {
        return api::ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this page is not signed in to the wallet: open the address `amanat serve` printed (press Enter where it runs for a new one)",
        )
        .into_response();
    }
    state.touch();
    next.run(req).await
}

/// Static files of the web wallet; anything else is the app itself (it routes in the browser).
async fn static_file(State(state): State<Arc<AppState>>, req: Request) -> Response {
    state.web.respond(req.uri().path(), req.headers()).await
}

/// The routes, with their guards.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = api::routes()
        .layer(axum::middleware::from_fn_with_state(state.clone(), check_token))
        .layer(axum::extract::DefaultBodyLimit::max(96 * 1024 * 1024))
        .merge(api::session_routes());
    Router::new()
        .nest("/api", api)
        .fallback(static_file)
        .layer(axum::middleware::from_fn_with_state(state.clone(), check_host))
        .with_state(state)
}

/// The web wallet to serve: `dir` (`--web DIR`), else the one built into the
/// binary, else `web/` next to the binary or one level up
/// (`target/release/amanat` → `target/web`), else `target/web` here.
pub fn web_files(dir: Option<PathBuf>) -> Option<crate::webapp::Files> {
    crate::webapp::Files::choose(dir, crate::webapp::WEB, "AMANAT_WEB_DIR", "web")
}

/// Serves until `shutdown` completes. The listener must be on a loopback address.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "the wallet serves on the loopback interface only",
        ));
    }
    let port = addr.port();
    let hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    let vault = match (&opts.passphrase, crate::vault::exists(&opts.vault_dir)) {
        (Some(pass), true) => {
            let dir = opts.vault_dir.clone();
            let pass = pass.clone();
            let v = tokio::task::spawn_blocking(move || Vault::open(&dir, &pass))
                .await
                .map_err(std::io::Error::other)?
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .with_clock(opts.clock);
            Some(Arc::new(Mutex::new(v)))
        }
        _ => None,
    };
    let idle = opts.idle_lock;
    let state = Arc::new(AppState {
        web: WebApp::load(opts.web.clone(), NOT_BUILT),
        opts,
        hosts,
        vault: Mutex::new(vault),
        last_seen: Mutex::new(Instant::now()),
        plugins: Mutex::new(None),
        pending: Mutex::new(HashMap::new()),
    });
    let watcher = state.clone();
    let idle_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5).min(idle));
        loop {
            tick.tick().await;
            let idle_for = lock(&watcher.last_seen).elapsed();
            if idle_for >= idle && lock(&watcher.vault).take().is_some() {
                lock(&watcher.pending).clear();
            }
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    idle_task.abort();
    result
}
