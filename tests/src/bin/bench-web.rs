//! `bench-web`: the web wallet's performance figures, measured in a real headless
//! Chromium against a release `amanat serve` on a wallet of 10,000 records.
//!
//! Prints: the bundle's size (raw and gzipped); how long after navigation the
//! dashboard and the timeline had rendered their data (the app marks
//! `amanat:dashboard-ready` and `amanat:timeline-ready` in the Performance
//! timeline one animation frame after the data arrives); and frame times while
//! the 10,000-record timeline is scrolled, with how many rows were in the page.
//! Then the share viewer on a phone (390×844, touch, a mobile user agent):
//! how long from navigation to the verified records of the patient's
//! 20-entry summary (offline, in the URL; and through a relay), with DevTools
//! throttling the network to 1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT and
//! the CPU 4×: cold (nothing cached, no service worker) and warm (the service
//! worker installed by an earlier visit).
//!
//! Run it with `scripts/bench-web`, which builds what it needs first.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use amanat_tests::browser::{Chrome, WalletServer};
use amanat_tests::workspace_root;
use serde_json::Value;

const PASSPHRASE: &str = "amanat web benchmark";

struct Options {
    amanat: PathBuf,
    records: usize,
    runs: usize,
    /// The built viewer the relay serves (`--viewer DIR`); by default the
    /// one built into the binary, whose files are target/viewer's.
    viewer: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        amanat: workspace_root().join("target/release/amanat"),
        records: 10_000,
        runs: 5,
        viewer: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--amanat" => o.amanat = value().into(),
            "--records" => o.records = value().parse().expect("--records N"),
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--viewer" => o.viewer = Some(value().into()),
            "-h" | "--help" => {
                println!(
                    "bench-web [--amanat PATH] [--records N] [--runs N] [--viewer DIR]\n\nMeasures the web wallet in headless Chromium (see scripts/bench-web).\n--viewer DIR: the relay serves this built viewer instead of its own (to compare two builds in one session)."
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other} (try --help)"),
        }
    }
    o
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip").len()
}

fn kib(n: usize) -> String {
    format!("{:.0} KiB", n as f64 / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Milliseconds from navigation start to the app's `mark`, waiting up to 60 s.
async fn time_to_mark(chrome: &Chrome, mark: &str) -> f64 {
    let script =
        format!("const m = performance.getEntriesByName('{mark}'); return m.length ? m[0].startTime : null;");
    for _ in 0..600 {
        if let Ok(Value::Number(n)) = chrome.client.execute(&script, vec![]).await {
            return n.as_f64().unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never marked {mark}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let o = options();
    let web = workspace_root().join("target/web");
    assert!(
        o.amanat.exists(),
        "{} is missing: run scripts/bench-web",
        o.amanat.display()
    );

    // The bundle.
    let mut wasm = (0, 0);
    let mut js = (0, 0);
    for entry in std::fs::read_dir(&web).expect("target/web: run trunk build") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => wasm = (bytes.len(), gzip_len(&bytes)),
            Some("js") => js = (bytes.len(), gzip_len(&bytes)),
            _ => {}
        }
    }
    println!(
        "bundle     wasm {} raw, {} gzipped; JS glue {} raw, {} gzipped",
        kib(wasm.0),
        kib(wasm.1),
        kib(js.0),
        kib(js.1)
    );
    // The share viewer: everything a doctor's phone downloads on a first
    // visit (page, JS, wasm, CSS, service worker, manifest, icon); apart, what
    // the page for SMART Health Links adds (shl.html and its JS and wasm).
    let (mut viewer, mut links) = ((0, 0), (0, 0));
    let viewer_dir = o
        .viewer
        .clone()
        .unwrap_or_else(|| workspace_root().join("target/viewer"));
    let listing = std::fs::read_dir(&viewer_dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/bench-web builds target/viewer)",
            viewer_dir.display()
        )
    });
    for entry in listing {
        let entry = entry.expect("entry");
        let bytes = std::fs::read(entry.path()).expect("read");
        let name = entry.file_name().to_string_lossy().into_owned();
        let sum = match name == "shl.html" || name.starts_with("viewer-shl-") {
            true => &mut links,
            false => &mut viewer,
        };
        *sum = (sum.0 + bytes.len(), sum.1 + gzip_len(&bytes));
    }
    println!(
        "viewer     a first visit's files {} raw ({} bytes), {} gzipped ({} bytes); the SMART Health Link page's own {} raw, {} gzipped",
        kib(viewer.0),
        viewer.0,
        kib(viewer.1),
        viewer.1,
        kib(links.0),
        kib(links.1)
    );

    // A wallet of `records` records.
    let tmp = tempfile::tempdir().expect("temp dir");
    let vault = tmp.path().join("vault");
    let status = Command::new(&o.amanat)
        .args([
            "demo",
            "--records",
            &o.records.to_string(),
            "--kdf-work-factor",
            "10",
        ])
        .env("AMANAT_VAULT", &vault)
        .env("AMANAT_PASSPHRASE", PASSPHRASE)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("amanat demo");
    assert!(status.success(), "amanat demo failed");
    let mut server = WalletServer::with_binary(&o.amanat, &vault, &[("AMANAT_PASSPHRASE", PASSPHRASE)]);
    let chrome = Chrome::start().await;

    // Dashboard: a fresh page load each run (no HTTP cache: the server says no-store).
    let mut dashboard = Vec::new();
    for _ in 0..o.runs {
        chrome.client.goto("about:blank").await.expect("blank");
        let url = server.login_url();
        chrome.client.goto(&url).await.expect("load");
        dashboard.push(time_to_mark(&chrome, "amanat:dashboard-ready").await);
    }
    println!(
        "dashboard  ready {:.0} ms after navigation (median of {}; max {:.0} ms), the patient has {} records",
        median(dashboard.clone()),
        o.runs,
        dashboard.iter().copied().fold(0.0, f64::max),
        o.records
    );

    // Timeline: load, then scroll through it, measuring every frame.
    let mut timeline = Vec::new();
    for _ in 0..o.runs {
        chrome.client.goto("about:blank").await.expect("blank");
        let url = format!("{}#/records", server.login_url());
        chrome.client.goto(&url).await.expect("load");
        timeline.push(time_to_mark(&chrome, "amanat:timeline-ready").await);
    }
    println!(
        "timeline   ready {:.0} ms after navigation (median of {}), all rows fetched",
        median(timeline),
        o.runs
    );
    for (label, step) in [("reading", 96), ("flinging", 2400)] {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const el = document.querySelector('[data-testid=timeline]');
             el.scrollTop = 0;
             const frames = []; let most = 0; let last = performance.now(); const start = last;
             function step(t) {{
               frames.push(t - last); last = t;
               most = Math.max(most, document.querySelectorAll('[data-testid=record-row]').length);
               el.scrollTop += {step};
               if (t - start < 4000 && el.scrollTop + el.clientHeight < el.scrollHeight) requestAnimationFrame(step);
               else done({{ frames: frames.slice(1), most, scrolled: el.scrollTop, height: el.scrollHeight }});
             }}
             requestAnimationFrame(step);"
        );
        let r = chrome
            .client
            .execute_async(&script, vec![])
            .await
            .expect("scroll script");
        let mut frames: Vec<f64> = serde_json::from_value(r["frames"].clone()).unwrap_or_default();
        frames.sort_by(f64::total_cmp);
        assert!(!frames.is_empty(), "no frames were measured");
        let janky = frames.iter().filter(|f| **f > 1000.0 / 30.0).count();
        println!(
            "scrolling  {label} ({step} px a frame): {} frames, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms, {} over 33 ms; at most {} rows in the page; scrolled {:.0} of {:.0} px",
            frames.len(),
            percentile(&frames, 0.5),
            percentile(&frames, 0.95),
            frames[frames.len() - 1],
            janky,
            r["most"],
            r["scrolled"].as_f64().unwrap_or_default(),
            r["height"].as_f64().unwrap_or_default(),
        );
    }
    chrome.quit().await;
    // The wallet is free again for `amanat share`.
    drop(server);
    phone_viewer(&o, &vault).await;
}

/// The share viewer on a throttled phone: cold and warm opens of the 20-entry
/// summary, offline and through a relay serving the viewer.
async fn phone_viewer(o: &Options, vault: &std::path::Path) {
    let store = tempfile::tempdir().expect("temp dir");
    let mut relay = Command::new(&o.amanat)
        .args(["relay", "--bind", "127.0.0.1:0", "--rate-limit", "0", "--store"])
        .arg(store.path())
        .args(
            o.viewer
                .iter()
                .flat_map(|dir| [std::ffi::OsStr::new("--viewer"), dir.as_os_str()]),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("amanat relay");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(relay.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the relay's address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("an address")
        .to_string();
    let share = |extra: &[&str]| -> String {
        let out = Command::new(&o.amanat)
            .args([
                "share",
                "--summary",
                "--purpose",
                "CAREMGT",
                "--expires",
                "2h",
                "--json",
            ])
            .args(extra)
            .env("AMANAT_VAULT", vault)
            .env("AMANAT_PASSPHRASE", PASSPHRASE)
            .output()
            .expect("amanat share");
        assert!(
            out.status.success(),
            "share failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("share --json");
        v["link"].as_str().expect("a link").to_string()
    };
    let offline = share(&["--offline", "--viewer", &url]);
    let through_relay = share(&["--relay", &url]);
    let phone = Chrome::phone().await;
    phone.cdp("Network.enable", serde_json::json!({})).await;
    phone
        .cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": 150,
                "downloadThroughput": 1_600_000 / 8,
                "uploadThroughput": 750_000 / 8
            }),
        )
        .await;
    phone
        .cdp("Emulation.setCPUThrottlingRate", serde_json::json!({ "rate": 4 }))
        .await;
    let origin = url.trim_end_matches('/').to_string();
    for (label, link) in [
        ("offline share in the URL", &offline),
        ("relay share", &through_relay),
    ] {
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for _ in 0..o.runs {
            // Cold: no cache, no service worker, nothing stored for the origin.
            phone.client.goto("about:blank").await.expect("blank");
            phone
                .cdp(
                    "Storage.clearDataForOrigin",
                    serde_json::json!({ "origin": origin, "storageTypes": "all" }),
                )
                .await;
            phone
                .cdp("Network.clearBrowserCache", serde_json::json!({}))
                .await;
            cold.push(open_verified(&phone, link).await);
            // Warm: the service worker from that visit serves the viewer.
            phone.client.goto("about:blank").await.expect("blank");
            warm.push(open_verified(&phone, link).await);
        }
        println!(
            "viewer     {label}, 20 entries, 1.6 Mbit/s, 150 ms RTT, CPU 4x: cold {:.0} ms (median of {}; {:.0}-{:.0}), warm {:.0} ms ({:.0}-{:.0})",
            median(cold.clone()),
            o.runs,
            cold.iter().copied().fold(f64::MAX, f64::min),
            cold.iter().copied().fold(0.0, f64::max),
            median(warm.clone()),
            warm.iter().copied().fold(f64::MAX, f64::min),
            warm.iter().copied().fold(0.0, f64::max),
        );
    }
    phone.quit().await;
    let _ = relay.kill();
    let _ = relay.wait();
}

/// Milliseconds from asking for `url` until the verified records are on
/// screen. The page watches for them itself (a `MutationObserver`, then the
/// frame that paints them): asking WebDriver every 10 ms instead ran its
/// element lookups on the throttled page's one thread, about 5 % of it, and
/// saw the records up to a poll late.
async fn open_verified(phone: &Chrome, url: &str) -> f64 {
    let started = std::time::Instant::now();
    phone.client.goto(url).await.expect("the viewer loads");
    let seen = phone
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const look = () => {
               const refused = document.querySelector('[data-testid=refused]');
               if (refused) { done('refused: ' + refused.textContent); return true; }
               const verified = document.querySelector('[data-testid=verified]');
               if (!verified || !verified.getClientRects().length) return false;
               requestAnimationFrame(() => setTimeout(() => done('verified')));
               return true;
             };
             if (!look()) {
               const watch = new MutationObserver(() => { if (look()) watch.disconnect(); });
               watch.observe(document, { subtree: true, childList: true, attributes: true });
             }",
            vec![],
        )
        .await
        .expect("the share never opened");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(seen, "verified", "the viewer refused the share");
    elapsed
}
