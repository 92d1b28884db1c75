//! The relay on every store it supports (embedded sled, one Redis server, a
//! 3-master Redis Cluster), several relays on one Redis, and the faults a
//! national deployment meets: a relay killed under load, Redis stopped and
//! restarted, a full store, hostile ids and forged client addresses.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use amanat_tests::redis::{RedisServer, files_under, shared_cluster, shared_redis, wait_for};
use amanat_tests::{TestRelay, amanat_bare, contains};

use crate::sharing::{receive, share, share_link, share_run, wallet_with_records};

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sled,
    Redis,
    Cluster,
}

impl Backend {
    fn relay(self, args: &[&str]) -> TestRelay {
        match self {
            Backend::Sled => TestRelay::on(None, args),
            Backend::Redis => TestRelay::on(Some(&shared_redis().url()), args),
            Backend::Cluster => TestRelay::on(Some(&shared_cluster().url()), args),
        }
    }

    /// Everything the store keeps, as bytes at rest.
    fn stored(self, relay: &TestRelay) -> Vec<Vec<u8>> {
        match self {
            Backend::Sled => files_under(&relay.store),
            Backend::Redis => vec![shared_redis().snapshot()],
            Backend::Cluster => shared_cluster().snapshots(),
        }
    }
}

/// Two relays on the shared Redis and a share uploaded through `a`.
struct Pair {
    a: TestRelay,
    b: TestRelay,
    /// The patient's wallet.
    v: amanat_tests::TestVault,
    /// What `share --json` printed.
    out: serde_json::Value,
    /// The share's address at `a`, and the same share's at `b`.
    via_a: String,
    via_b: String,
    /// The shared record.
    id: String,
}

fn two_relays_one_share(uses: &str) -> Pair {
    let a = Backend::Redis.relay(&["--rate-limit", "0"]);
    let b = Backend::Redis.relay(&["--rate-limit", "0"]);
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]).remove(0);
    let out = share(&v, &[&id, "--relay", &a.url, "--uses", uses]);
    let via_a = out["relay_url"].as_str().unwrap().to_string();
    let via_b = via_a.replace(&a.url, &b.url);
    Pair {
        a,
        b,
        v,
        out,
        via_a,
        via_b,
        id,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `(status, body)` of a GET.
pub(crate) fn get(url: &str) -> (u16, String) {
    runtime().block_on(async {
        let r = reqwest::get(url).await.expect("the relay answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

/// Sends exactly `request` (a whole HTTP/1.1 head, and a body if any) and
/// returns the status and body; the relay must answer within 10 s.
fn raw(base: &str, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Read the head and the body the head announces; the relay may keep the
    // connection open (it is still waiting for our body, which never comes).
    loop {
        let n = stream
            .read(&mut buf)
            .expect("an answer within 10 s, before any body was sent");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length || n == 0 {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                return (status, body.to_string());
            }
        }
        if n == 0 {
            panic!("connection closed without an answer: {text}");
        }
    }
}

/// Share some records through `relay`, receive, check the store for
/// plaintext, revoke, be refused; then a one-use share; bad ids; the
/// operator's endpoints.
fn the_relay_suite(backend: Backend) {
    let relay = backend.relay(&["--rate-limit", "0"]);
    let v = wallet_with_records();
    let out = share(
        &v,
        &[
            "--type",
            "Observation",
            "--type",
            "Condition",
            "--relay",
            &relay.url,
        ],
    );
    let link = out["link"].as_str().unwrap();
    let url = out["relay_url"].as_str().unwrap();
    assert!(url.starts_with(&relay.url));
    assert_eq!(receive(link).json()["records"].as_array().unwrap().len(), 5);

    // The store holds ciphertext only.
    let files = backend.stored(&relay);
    assert!(!files.is_empty());
    for needle in [
        "Hemoglobin",
        "4548-4",
        "Ayesha",
        "Observation",
        "diabetes",
        "resourceType",
    ] {
        assert!(
            !files.iter().any(|f| contains(f, needle.as_bytes())),
            "'{needle}' in the relay's store ({backend:?})"
        );
    }

    let grants = v.run(&["grants", "--json"]).json();
    assert_eq!(grants[0]["uses"], 1, "the fetch was counted: {grants}");
    let shared: Vec<_> = out["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(grants[0]["record_ids"].as_array().unwrap(), &shared);
    let grant = out["grant_id"].as_str().unwrap();
    v.run(&["grants", "revoke", &grant[..8]]).ok_saying("Revoked");
    receive(link).fails_saying(6, "the patient revoked this share");
    let grants = v.run(&["grants", "--json"]).json();
    assert_eq!(grants[0]["status"], "revoked");
    let audit = v
        .run(&["audit"])
        .ok_saying(&format!("share {grant} opened (use 1)"));
    assert!(audit.contains(&format!("revoked share {grant}")), "{audit}");

    // Uses are limited.
    let id = v.ids(&["--type", "Condition"]);
    let once = share(&v, &[&id[0], "--relay", &relay.url, "--uses", "1"]);
    let once = once["link"].as_str().unwrap();
    receive(once).ok();
    receive(once).fails_saying(6, "uses exhausted");

    // Ids that could reach into other keys are refused before the store
    // (sent raw: an HTTP client would resolve `%2E%2E` itself).
    let long = "x".repeat(10 * 1024);
    for bad in [
        "%00",
        "a%00b",
        "a%2Fb",
        "%2E%2E",
        "..%2F..%2Fetc",
        &long,
        "%C3%BCnicode",
        "a%20b",
    ] {
        let (status, body) = raw(
            &relay.url,
            &format!("GET /v1/shares/{bad} HTTP/1.1\r\nHost: r\r\n\r\n"),
        );
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("not a share id"), "{bad}: {body}");
    }

    // The operator's endpoints.
    assert_eq!(get(&format!("{}/health", relay.url)), (200, "ok".to_string()));
    let (status, metrics) = get(&format!("{}/metrics", relay.url));
    assert_eq!(status, 200);
    for line in [
        "amanat_relay_requests_total{route=\"/v1/shares/{id}\",status=\"200\"} 2",
        "amanat_relay_requests_total{route=\"/v1/shares/{id}\",status=\"410\"} 2",
        "amanat_relay_requests_total{route=\"/v1/shares/{id}\",status=\"400\"} 8",
        "amanat_relay_requests_total{route=\"/v1/shares\",status=\"201\"} 2",
        "amanat_relay_fetch_seconds_count 12",
        "amanat_relay_store_up 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no {line} in\n{metrics}");
    }
    let stored: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("amanat_relay_stored_shares "))
        .and_then(|n| n.parse().ok())
        .expect("stored shares");
    assert!(stored >= 1, "{metrics}");

    // A one-use share for a named provider. A bystander who photographed the
    // code used to be able to burn its use with a plain GET; now an unsigned
    // fetch, or one signed by another key, is refused before it counts.
    let (rao, card) = amanat_tests::provider(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let theirs = share(&v, &[&id[0], "--relay", &relay.url, "--uses", "1", "--to", &card]);
    let url = theirs["relay_url"].as_str().unwrap();
    for _ in 0..3 {
        let (status, body) = get(url);
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("provider only"), "{body}");
    }
    let (status, body) = signed_get(url, &ed25519_dalek::SigningKey::from_bytes(&[9; 32]));
    assert_eq!(
        (status, body.contains("provider only")),
        (401, true),
        "another key: {body}"
    );
    let pass = [("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase")];
    let link = theirs["link"].as_str().unwrap();
    let opened = amanat_bare(
        &["receive", "--json", link, "--identity", rao.to_str().unwrap()],
        &pass,
    );
    assert_eq!(opened.json()["records"].as_array().unwrap().len(), 1);
    let err = amanat_bare(&["receive", link, "--identity", rao.to_str().unwrap()], &pass).fails_with(6);
    assert!(
        err.contains("uses exhausted"),
        "its one use went to the provider: {err}"
    );
}

/// A GET signed as a provider would sign it, with `key`.
fn signed_get(url: &str, key: &ed25519_dalek::SigningKey) -> (u16, String) {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let path = reqwest::Url::parse(url).unwrap().path().to_string();
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let sig = key.sign(wallet_core::relay::signing_message("GET", &path, t).as_bytes());
    let header = format!(
        "Amanat-Signature t={t},sig={},key={}",
        b64(&sig.to_bytes()),
        b64(key.verifying_key().as_bytes())
    );
    runtime().block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .header("authorization", header)
            .send()
            .await
            .expect("the relay answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

#[test]
fn the_relay_suite_on_sled() {
    the_relay_suite(Backend::Sled);
}

#[test]
fn the_relay_suite_on_redis() {
    the_relay_suite(Backend::Redis);
}

#[test]
fn the_relay_suite_on_a_redis_cluster() {
    the_relay_suite(Backend::Cluster);
}

/// Fetches each URL once, all at the same time; returns the statuses.
fn fetch_concurrently(urls: Vec<String>) -> Vec<u16> {
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for url in urls {
            let http = http.clone();
            tasks.spawn(async move {
                http.get(&url)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            });
        }
        tasks.join_all().await
    })
}

#[test]
fn two_relays_on_one_redis_count_each_use_exactly_once() {
    let Pair {
        a,
        b,
        v,
        via_a,
        via_b,
        id,
        ..
    } = two_relays_one_share("5");

    // Uploaded through one, fetched through the other, 200 at once over both.
    let urls = (0..200)
        .map(|i| if i % 2 == 0 { via_a.clone() } else { via_b.clone() })
        .collect();
    let statuses = fetch_concurrently(urls);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 410).count(),
        195,
        "{statuses:?}"
    );
    let (_, body) = get(&via_b);
    assert!(body.contains("uses exhausted"), "{body}");

    // The patient's access log: five opens.
    let grants = v.run(&["grants", "--json"]).json();
    assert_eq!(grants[0]["uses"], 5, "{grants}");
    let audit = v.run(&["audit"]).ok();
    assert_eq!(audit.matches("opened (use ").count(), 5, "{audit}");

    // A revoke through one relay is seen by the other at once.
    let fresh = share(&v, &[&id, "--relay", &a.url]);
    let fresh_b = fresh["relay_url"].as_str().unwrap().replace(&a.url, &b.url);
    assert_eq!(get(&fresh_b).0, 200);
    let grant = fresh["grant_id"].as_str().unwrap();
    v.run(&["grants", "revoke", grant]).ok();
    let (status, body) = get(&fresh_b);
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("revoked"), "{body}");
}

#[test]
fn upload_quotas_hold_across_relays() {
    let args = ["--rate-limit", "0", "--uploads-per-key", "2"];
    let a = Backend::Redis.relay(&args);
    let b = Backend::Redis.relay(&args);
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    share(&v, &[&id[0], "--relay", &a.url]);
    share(&v, &[&id[0], "--relay", &b.url]);
    share_run(&v, &[&id[0], "--relay", &a.url]).fails_saying(
        1,
        "the relay's daily limit for this wallet is reached: 2 shares a day",
    );
    // Another patient is not affected.
    let other = wallet_with_records();
    let oid = other.ids(&["--type", "Condition"]);
    share(&other, &[&oid[0], "--relay", &b.url]);
}

/// Shares until the relay says it is full; the shares it took still open.
fn a_full_store_refuses_uploads_and_still_serves(relay: &TestRelay) {
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Observation"]);
    let mut taken = Vec::new();
    let mut refused = None;
    for _ in 0..20 {
        let run = share_run(&v, &[&id[0], "--relay", &relay.url]);
        if run.code != 0 {
            refused = Some(run.stderr);
            break;
        }
        taken.push(run.json());
    }
    let refused = refused.expect("the store filled up");
    assert!(
        refused.contains("the relay is full and accepts no new shares"),
        "{refused}"
    );
    assert!(taken.len() >= 2, "{} shares fit", taken.len());
    for out in &taken {
        receive(out["link"].as_str().unwrap()).ok();
    }
    // Revokes give their room back.
    for out in &taken[..2] {
        v.run(&["grants", "revoke", out["grant_id"].as_str().unwrap()])
            .ok();
    }
    share_run(&v, &[&id[0], "--relay", &relay.url]).ok();
}

#[test]
fn a_full_store_refuses_uploads_never_evicts_and_still_serves() {
    let args = ["--rate-limit", "0", "--max-store-bytes", "8000"];
    a_full_store_refuses_uploads_and_still_serves(&Backend::Sled.relay(&args));
    let own = RedisServer::start();
    a_full_store_refuses_uploads_and_still_serves(&TestRelay::on(Some(&own.url()), &args));
}

#[test]
fn redis_down_is_a_clear_503_and_the_relay_heals_itself_counts_surviving_a_restart() {
    let mut redis = RedisServer::start_aof();
    let relay = TestRelay::on(Some(&redis.url()), &["--rate-limit", "0"]);
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let out = share(&v, &[&id[0], "--relay", &relay.url, "--uses", "3"]);
    let link = out["link"].as_str().unwrap();
    let url = out["relay_url"].as_str().unwrap();
    receive(link).ok();

    redis.stop();
    let (status, body) = get(url);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("the relay's store is unavailable right now"),
        "{body}"
    );
    assert_eq!(get(&format!("{}/health", relay.url)).0, 503);
    receive(link).fails_saying(6, "unavailable");
    let (_, metrics) = get(&format!("{}/metrics", relay.url));
    assert!(metrics.contains("amanat_relay_store_up 0"), "{metrics}");

    // Back on the same port with its append-only file: no restart of the relay.
    redis.restart();
    wait_for(
        || get(&format!("{}/health", relay.url)).0 == 200,
        "the relay to reconnect",
    );
    receive(link).ok();
    let grants = v.run(&["grants", "--json"]).json();
    assert_eq!(
        grants[0]["uses"], 2,
        "the use before the restart survived: {grants}"
    );
    receive(link).ok();
    receive(link).fails_saying(6, "uses exhausted");
}

/// Fetches `urls` round-robin from 16 tasks until `stop`; counts 200s.
fn load(urls: Vec<String>, ok: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        runtime().block_on(async {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut tasks = tokio::task::JoinSet::new();
            for t in 0..16 {
                let (http, urls, ok, stop) = (http.clone(), urls.clone(), ok.clone(), stop.clone());
                tasks.spawn(async move {
                    let mut i = t;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let url = &urls[i % urls.len()];
                        if let Ok(r) = http.get(url).send().await
                            && r.status() == 200
                            && r.bytes()
                                .await
                                .is_ok_and(|b| b.starts_with(b"age-encryption.org/v1"))
                        {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
            tasks.join_all().await;
        })
    })
}

#[test]
fn a_relay_killed_under_load_leaves_the_other_serving_and_no_use_lost() {
    let Pair {
        mut a,
        b: _b,
        v: _v,
        out,
        via_a,
        via_b,
        ..
    } = two_relays_one_share("1000000");
    let grant = out["grant_id"].as_str().unwrap();

    let (ok, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let loader = load(vec![via_a, via_b], ok.clone(), stop.clone());
    wait_for(|| ok.load(Ordering::SeqCst) >= 200, "200 fetches");
    a.kill();
    let at_kill = ok.load(Ordering::SeqCst);
    wait_for(
        || ok.load(Ordering::SeqCst) >= at_kill + 200,
        "200 more fetches through the other relay",
    );
    stop.store(true, Ordering::SeqCst);
    loader.join().unwrap();

    let answered = ok.load(Ordering::SeqCst);
    let uses: usize = shared_redis()
        .cli(&["HGET", &format!("amanat:s:{{{grant}}}:m"), "uses"])
        .trim()
        .parse()
        .unwrap();
    // Every answered fetch is counted; at most the 16 in flight at the kill
    // were counted and never answered.
    assert!(uses >= answered, "{uses} uses counted, {answered} answered");
    assert!(uses <= answered + 16, "{uses} uses counted, {answered} answered");
}

#[test]
fn use_counts_survive_sigkill_of_a_relay_on_sled() {
    let mut relay = Backend::Sled.relay(&["--rate-limit", "0"]);
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let out = share(&v, &[&id[0], "--relay", &relay.url, "--uses", "1000000"]);
    let url = out["relay_url"].as_str().unwrap().to_string();
    let grant = out["grant_id"].as_str().unwrap().to_string();

    let (ok, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let loader = load(vec![url], ok.clone(), stop.clone());
    wait_for(|| ok.load(Ordering::SeqCst) >= 300, "300 fetches");
    relay.kill();
    stop.store(true, Ordering::SeqCst);
    loader.join().unwrap();
    let answered = ok.load(Ordering::SeqCst);

    // Open the store the killed relay left, as its restart would.
    use wallet_core::relay::store::ShareStore;
    let store = wallet_core::relay::store::SledStore::open(&relay.store).unwrap();
    let status = runtime().block_on(store.status(&grant)).unwrap();
    assert!(
        status.uses as usize >= answered,
        "{} uses on disk, {answered} fetches answered with the ciphertext",
        status.uses
    );
}

#[test]
fn the_rate_limit_comes_before_the_body_and_believes_only_trusted_proxies() {
    let relay = Backend::Redis.relay(&["--rate-limit", "1", "--trusted-proxy", "127.0.0.0/8"]);
    let req =
        |xff: &str| format!("GET /v1/shares/nosuch HTTP/1.1\r\nHost: r\r\nX-Forwarded-For: {xff}\r\n\r\n");
    // A burst of two a client, then 429; another client has its own bucket.
    let statuses: Vec<u16> = (0..3).map(|_| raw(&relay.url, &req("203.0.113.5")).0).collect();
    assert_eq!(statuses, [404, 404, 429]);
    assert_eq!(raw(&relay.url, &req("203.0.113.6")).0, 404);
    // IPv6 clients are one bucket per /64.
    assert_eq!(raw(&relay.url, &req("2001:db8:1:2::1")).0, 404);
    assert_eq!(raw(&relay.url, &req("2001:db8:1:2::2")).0, 404);
    assert_eq!(raw(&relay.url, &req("2001:db8:1:2:ffff::9")).0, 429);
    assert_eq!(raw(&relay.url, &req("2001:db8:1:3::1")).0, 404);

    // Refused before the body is read: the body never comes, the answer does.
    let post = |xff: &str, length: u64| {
        format!(
            "POST /v1/shares HTTP/1.1\r\nHost: r\r\nX-Forwarded-For: {xff}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    let (status, body) = raw(&relay.url, &post("203.0.113.5", 100));
    assert_eq!(status, 429, "{body}");
    // The declared size is checked first: refused as too large even from a
    // client that is over its rate.
    let (status, body) = raw(&relay.url, &post("203.0.113.5", 1_000_000_000));
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than the relay accepts"), "{body}");

    // The access log shows whom the proxy forwarded for.
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let out = share(&v, &[&id[0], "--relay", &relay.url]);
    let path = out["relay_url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&relay.url)
        .to_string();
    let (status, _) = raw(
        &relay.url,
        &format!("GET {path} HTTP/1.1\r\nHost: r\r\nX-Forwarded-For: 192.0.2.77\r\n\r\n"),
    );
    assert_eq!(status, 200);
    v.run(&["grants"]).ok();
    v.run(&["audit"]).ok_saying("192.0.2.77");

    // A relay that trusts no proxy ignores the header: one bucket for all.
    let plain = Backend::Sled.relay(&["--rate-limit", "1"]);
    let statuses: Vec<u16> = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .map(|x| raw(&plain.url, &req(x)).0)
        .collect();
    assert_eq!(statuses, [404, 404, 429]);
}

/// A hostile "relay" on a free port: answers one request with 200 and up to
/// 1 GiB of zeros (with a `Content-Length` saying so, or none and the
/// connection closed at the end); returns its URL and, when the client hangs
/// up, how many body bytes it managed to send.
fn hostile_relay(declare_length: bool) -> (String, std::thread::JoinHandle<usize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        const GIB: usize = 1 << 30;
        let length = if declare_length {
            format!("Content-Length: {GIB}\r\n")
        } else {
            "Connection: close\r\n".into()
        };
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{length}\r\n");
        if stream.write_all(answer.as_bytes()).is_err() {
            return 0;
        }
        let chunk = vec![0u8; 64 * 1024];
        let mut sent = 0;
        while sent < GIB && stream.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    (url, server)
}

/// The most a loopback TCP connection can hold unread: the receiver's
/// largest autotuned buffer plus the sender's (`tcp_rmem` and `tcp_wmem`
/// maxima; Linux's defaults when they cannot be read).
fn loopback_buffers() -> usize {
    let max = |file: &str, default: usize| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(default)
    };
    max("/proc/sys/net/ipv4/tcp_rmem", 6 << 20) + max("/proc/sys/net/ipv4/tcp_wmem", 4 << 20)
}

#[test]
fn a_hostile_relay_streaming_a_gigabyte_is_refused_and_read_no_further_than_the_cap() {
    let relay = Backend::Sled.relay(&["--rate-limit", "0"]);
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let link = share_link(&v, &[&id[0], "--relay", &relay.url]);
    for declare_length in [true, false] {
        let (hostile, server) = hostile_relay(declare_length);
        // The relay's address is not signed: anyone can point a link elsewhere.
        let mut redirected = wallet_core::share::link::ShareLink::decode(&link).unwrap();
        let wallet_core::share::link::Location::Relay(url) = &redirected.location else {
            panic!("a relay link")
        };
        redirected.location = wallet_core::share::link::Location::Relay(url.replace(&relay.url, &hostile));
        receive(&redirected.encode()).fails_saying(6, "the relay sent more than any share can be");
        let sent = server.join().unwrap();
        // Refused from the header at once, or as soon as the body passed
        // 64 MiB: never the whole gigabyte. What the server counts as sent
        // includes what the two sockets' buffers took in unread, which the
        // kernel's settings bound (32 MiB of receive buffer on some machines).
        let slack = loopback_buffers() + 2 * 1024 * 1024;
        let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
        let read_at_most = if declare_length {
            0
        } else {
            wallet_core::share::MAX_BUNDLE
        };
        assert!(
            sent < read_at_most + slack,
            "the client let {:.1} MiB through (declared length: {declare_length}); \
             the cap is {:.0} MiB and the sockets buffer at most {:.0} MiB",
            mib(sent),
            mib(read_at_most),
            mib(slack)
        );
    }
}
