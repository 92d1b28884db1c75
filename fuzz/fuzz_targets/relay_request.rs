//! Any HTTP request to the relay (method, path, `Authorization`,
//! `X-Forwarded-For`, `Content-Length`, body), through its real router on a
//! sled store: every one must get an answer (a refusal, for nearly all),
//! never a panic or a hang.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use wallet_core::relay::server::{Config, Relay, router};
use wallet_core::relay::store::SledStore;

struct World {
    runtime: tokio::runtime::Runtime,
    relay: Arc<Relay>,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SledStore::open(&dir.path().join("relay")).expect("a sled store");
        let config = Config {
            rate_per_second: 0,
            trusted_proxies: vec!["127.0.0.0/8".parse().expect("a CIDR")],
            ..Config::default()
        };
        World {
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
            relay: Relay::new(Arc::new(store), config),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xFF);
    let mut next = || parts.next().unwrap_or_default();
    let method = ["GET", "POST", "DELETE", "PUT", "OPTIONS"][usize::from(next().first().copied().unwrap_or(0)) % 5];
    let path = format!("/{}", String::from_utf8_lossy(next()));
    let (authorization, forwarded, length, body) = (next(), next(), next(), next());
    let Ok(uri) = path.parse::<axum::http::Uri>() else { return };
    let mut request = Request::builder().method(method).uri(uri).header("host", "relay.example");
    for (name, value) in [("authorization", authorization), ("x-forwarded-for", forwarded), ("content-length", length)] {
        if !value.is_empty() {
            request = request.header(name, value);
        }
    }
    let Ok(mut request) = request.body(Body::from(body.to_vec())) else { return };
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
    let w = world();
    let response = w
        .runtime
        .block_on(router(w.relay.clone()).oneshot(request))
        .expect("the router answers every request");
    assert!(response.status().as_u16() >= 200);
});
