//! Upload throughput of a relay (scripts/bench-relay): N distinct shares of
//! 1.4 KB, each with its own signed grant (a relay refuses a grant id twice,
//! so a replayed request measures nothing), posted over 64 connections.
//!
//! Usage: bench-relay-upload BASE_URL [COUNT]
//! Prints uploads a second and latency percentiles.

use std::time::{Duration, Instant};

use base64::Engine;
use ed25519_dalek::SigningKey;
use wallet_core::ids::WalletId;
use wallet_core::share::grant::{
    AccessMode, Grant, GrantedRecord, Grantee, Purpose, SignedGrant, sha256_b64,
};

const CONNECTIONS: usize = 64;
const CIPHERTEXT_BYTES: usize = 1_400;

fn bodies(count: usize) -> Vec<String> {
    let key = SigningKey::from_bytes(&rand::random());
    let wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut ciphertext = b"age-encryption.org/v1\n".to_vec();
    ciphertext.resize(CIPHERTEXT_BYTES, b'x');
    let ciphertext = base64::engine::general_purpose::STANDARD.encode(&ciphertext);
    (0..count)
        .map(|i| {
            let grant = Grant {
                v: 1,
                jti: format!("bench{i:08}{:08x}", rand::random::<u32>()),
                wallet: wallet.clone(),
                patient: "Bench Patient".into(),
                subject: None,
                to: Grantee::Bearer,
                purpose: Purpose::CareManagement,
                mode: AccessMode::View,
                iat: now,
                nbf: now,
                exp: now + 3600,
                uses: Some(1),
                records: vec![GrantedRecord {
                    id: "1".into(),
                    resource_type: "Observation".into(),
                    sha256: sha256_b64(b"{}"),
                    about: None,
                }],
            };
            let jws = SignedGrant::sign(&grant, &key).compact();
            serde_json::json!({ "grant": jws, "ciphertext": ciphertext }).to_string()
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(base) = args.next() else {
        eprintln!("usage: bench-relay-upload BASE_URL [COUNT]");
        std::process::exit(2);
    };
    let count: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(20_000);
    let bodies = bodies(count);
    let url = format!("{}/v1/shares", base.trim_end_matches('/'));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (took, mut latencies, failed) = rt.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .expect("client");
        let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let (http, queue, url) = (http.clone(), queue.clone(), url.clone());
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0usize;
                loop {
                    let Some(body) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                        break;
                    };
                    let sent = Instant::now();
                    let ok = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().as_u16() == 201);
                    latencies.push(sent.elapsed());
                    failed += usize::from(!ok);
                }
                (latencies, failed)
            });
        }
        let mut all = Vec::new();
        let mut failed = 0;
        for (l, f) in tasks.join_all().await {
            all.extend(l);
            failed += f;
        }
        (start.elapsed(), all, failed)
    });
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{count} uploads of {CIPHERTEXT_BYTES} B over {CONNECTIONS} connections in {:.2} s: {:.0} uploads/s, p50 {:.1} ms, p99 {:.1} ms, {failed} failed",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        ms(pct(0.5)),
        ms(pct(0.99)),
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
