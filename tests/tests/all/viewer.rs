//! The doctor with only a phone: share codes are viewer URLs; the relay
//! serves the viewer; a phone-sized headless Chromium opens the address read
//! back from the QR image and sees the verified records, or each refusal.

use amanat_tests::browser::Chrome;
use amanat_tests::{TestRelay, TestVault, amanat_bare, read_qr};
use fantoccini::Locator;
use wallet_core::share::link::ShareLink;

use crate::sharing::{crafted_share, share, share_run};

fn read_qr_file(png: &std::path::Path) -> String {
    read_qr(&std::fs::read(png).expect("the PNG was written"))
}

/// Opens `url` afresh (a new page load, as a camera app opening a link) and
/// returns the verdict's text.
pub(crate) async fn open(phone: &Chrome, url: &str, verdict: &str) -> String {
    phone.client.goto("about:blank").await.expect("blank page");
    phone.client.goto(url).await.expect("the viewer loads");
    phone
        .wait(&format!("[data-testid={verdict}]"))
        .await
        .text()
        .await
        .expect("text")
}

/// Every address the page fetched (the browser's resource timing: what the
/// DevTools network log lists), and the address bar now.
async fn fetched_and_address(phone: &Chrome) -> (Vec<String>, String) {
    let names = phone
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .expect("script runs");
    let address = phone.client.current_url().await.expect("a URL").to_string();
    (serde_json::from_value(names).unwrap_or_default(), address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctors_phone_opens_share_codes_in_the_relays_viewer() {
    let relay = TestRelay::start(0);
    let v = TestVault::new();
    v.run(&["demo", "--records", "120"]).ok();

    // The relay serves the viewer at its address, with the policy a page
    // holding a share's key needs.
    let page = reqwest::get(format!("{}/", relay.url))
        .await
        .expect("the relay answers");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(
        page.text().await.unwrap().contains("viewer-"),
        "the viewer's page"
    );

    // A relay share's code is the relay's viewer URL; the QR image reads back
    // to exactly that address.
    let png = v.scratch("relay.png");
    let made = share(
        &v,
        &[
            "--summary",
            "--relay",
            &relay.url,
            "--uses",
            "3",
            "--qr-png",
            png.to_str().unwrap(),
        ],
    );
    let url = made["link"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/#AMANAT/", relay.url)), "{url}");
    assert_eq!(read_qr_file(&png), url);
    let records = made["records"].as_array().unwrap().len();

    let phone = Chrome::phone().await;
    let text = open(&phone, &url, "verified").await;
    assert!(
        text.contains("Ayesha Siddiqui") && text.contains("treatment (CAREMGT)"),
        "{text}"
    );
    // Whom the records are about, as her profile states it, signed with the grant.
    let who = phone
        .wait("[data-testid=verified-who]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        who.ends_with("years (born 1968-04-12), CNIC 35202-1234567-2"),
        "{who}"
    );
    let shown = phone
        .client
        .find_all(Locator::Css("[data-testid=received-record]"))
        .await
        .unwrap()
        .len();
    assert_eq!(shown, records);
    assert_eq!(
        phone.overflow_x().await,
        0,
        "no sideways scrolling at phone width"
    );
    phone.shot("viewer-phone").await;
    // Nothing the page asked for carries the share: the fragment never left
    // the browser, and the address bar no longer holds it either.
    let (fetched, address) = fetched_and_address(&phone).await;
    let digits = url.split("#AMANAT/").nth(1).unwrap();
    assert!(
        fetched
            .iter()
            .all(|f| !f.contains(&digits[..40]) && !f.contains('#')),
        "{fetched:?}"
    );
    let grant = made["grant_id"].as_str().unwrap();
    assert_eq!(
        fetched
            .iter()
            .filter(|f| f.contains("/v1/shares/"))
            .collect::<Vec<_>>(),
        vec![&format!("{}/v1/shares/{grant}", relay.url)],
        "one fetch of the ciphertext"
    );
    assert_eq!(address, format!("{}/", relay.url));

    // The language follows the doctor's choice, right to left for Urdu.
    phone.click("[data-testid=lang-ur]").await;
    let dir = phone
        .client
        .execute("return document.documentElement.dir", vec![])
        .await
        .unwrap();
    assert_eq!(dir, "rtl");
    phone.click("[data-testid=lang-en]").await;

    // A changed digit, an expired grant, a revoked share, a used-up share:
    // each its own refusal.
    let mut tampered = url.clone().into_bytes();
    let at = tampered.len() - 30;
    tampered[at] = if tampered[at] == b'1' { b'2' } else { b'1' };
    let text = open(&phone, &String::from_utf8(tampered).unwrap(), "refused").await;
    assert!(text.contains("damaged"), "{text}");

    let past = wallet_core::clock::Clock::System.now() - 7200;
    let expired = crafted_share(
        &v,
        "Ayesha Siddiqui",
        past,
        br#"{"resourceType":"Condition"}"#.to_vec(),
    );
    let expired = ShareLink::decode(&expired).unwrap().encode_url(&relay.url);
    let text = open(&phone, &expired, "refused").await;
    assert!(text.contains("expired"), "{text}");

    let once = share(&v, &["--summary", "--relay", &relay.url, "--uses", "1"]);
    let once = once["link"].as_str().unwrap();
    open(&phone, once, "verified").await;
    let text = open(&phone, once, "refused").await;
    assert!(text.contains("uses exhausted"), "{text}");

    v.run(&["grants", "revoke", grant]).ok();
    let text = open(&phone, &url, "refused").await;
    assert!(text.contains("revoked"), "{text}");

    // A passcode share waits for its passcode; a wrong one is refused, the
    // right one opens it.
    let locked = share(&v, &["--summary", "--relay", &relay.url, "--passcode"]);
    let (link, code) = (
        locked["link"].as_str().unwrap(),
        locked["passcode"].as_str().unwrap(),
    );
    phone.client.goto("about:blank").await.unwrap();
    phone.client.goto(link).await.unwrap();
    phone.wait("[data-testid=needs-passcode]").await;
    phone
        .wait("[data-testid=receive-passcode]")
        .await
        .send_keys("k7dm-x3pq-9wtr")
        .await
        .unwrap();
    phone.click("[data-testid=receive-open]").await;
    let text = phone
        .wait_text("[data-testid=refused]", "passcode is wrong")
        .await;
    assert!(text.contains("passcode is wrong"), "{text}");
    let field = phone.wait("[data-testid=receive-passcode]").await;
    field.clear().await.unwrap();
    field.send_keys(code).await.unwrap();
    phone.click("[data-testid=receive-open]").await;
    phone.wait_text("[data-testid=verified]", "Ayesha Siddiqui").await;

    // An offline share carries the viewer's address too (the wallet's
    // setting); the whole share is in the fragment. The viewer, once
    // visited, keeps itself (a service worker): with the relay gone, the
    // phone still opens the share.
    v.run(&["settings", "--viewer", &relay.url])
        .ok_saying(&format!("{}/", relay.url));
    let png = v.scratch("offline.png");
    let offline = share(&v, &["--summary", "--offline", "--qr-png", png.to_str().unwrap()]);
    let url = read_qr_file(&png);
    assert_eq!(url, offline["link"].as_str().unwrap());
    assert!(url.starts_with(&format!("{}/#AMANAT/", relay.url)), "{url}");
    let kept = phone
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready
               .then(() => caches.open('amanat-viewer-v1'))
               .then(c => c.keys())
               .then(keys => done(keys.map(k => k.url)), e => done(['error: ' + e]));",
            vec![],
        )
        .await
        .expect("script runs");
    let kept: Vec<String> = serde_json::from_value(kept).unwrap();
    assert!(kept.iter().any(|k| k.ends_with("_bg.wasm")), "{kept:?}");
    assert!(
        kept.iter().all(|k| !k.contains("/v1/")),
        "no share is kept: {kept:?}"
    );
    drop(relay);
    // And the phone itself offline, as DevTools switches it.
    phone.cdp("Network.enable", serde_json::json!({})).await;
    phone
        .cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    assert!(
        reqwest::get(format!(
            "{url_base}/",
            url_base = url.split('#').next().unwrap().trim_end_matches('/')
        ))
        .await
        .is_err(),
        "the relay is gone"
    );
    let text = open(&phone, &url, "verified").await;
    assert!(text.contains("Ayesha Siddiqui"), "{text}");
    phone.shot("viewer-phone-offline").await;
    phone.quit().await;

    // The CLI opens the URL form, and the bare form it came from.
    amanat_bare(&["receive", &url], &[]).ok_saying("(born 1968-04-12), CNIC 35202-1234567-2");
    let bare = ShareLink::decode(&url).unwrap().encode();
    amanat_bare(&["receive", &bare], &[]).ok_saying("Ayesha Siddiqui");
}

#[test]
fn viewer_addresses_are_checked_and_the_setting_is_audited() {
    let v = TestVault::new();
    v.run(&["settings", "--viewer", "http://viewer.example/"])
        .fails_saying(1, "must start with https://");
    v.run(&["settings", "--viewer", "https://user@viewer.example/"])
        .fails_saying(1, "no credentials, query or fragment");
    v.run(&["settings", "--viewer", "https://viewer.example"])
        .ok_saying("https://viewer.example/");
    let json = v.run(&["settings", "--json"]).json();
    assert_eq!(json["viewer"], "https://viewer.example/");
    let audit = v.run(&["audit"]).ok();
    assert!(
        audit.contains("changed setting viewer to 'https://viewer.example/'"),
        "{audit}"
    );
    v.run(&["settings", "--no-viewer"]).ok_saying("bare AMANAT: link");
    v.run(&[
        "import",
        amanat_tests::fixture("observation.json").to_str().unwrap(),
    ])
    .ok();
    let bare = share(&v, &["--summary", "--offline"]);
    assert!(bare["link"].as_str().unwrap().starts_with("AMANAT:"));
    // A share names its own viewer when asked.
    let made = share(
        &v,
        &[
            "--summary",
            "--offline",
            "--viewer",
            "https://clinic.example/amanat/",
        ],
    );
    assert!(
        made["link"]
            .as_str()
            .unwrap()
            .starts_with("https://clinic.example/amanat/#AMANAT/"),
        "{made}"
    );
    share_run(&v, &["--summary", "--offline", "--viewer", "ftp://x"])
        .fails_saying(1, "must start with https://");
}

#[test]
fn the_viewer_exports_for_any_static_host() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("site");
    amanat_bare(&["viewer", "export", dir.to_str().unwrap()], &[]).ok_saying("Wrote the share viewer");
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    // Relative paths: it works under any prefix of any host.
    assert!(
        index.contains("'./viewer-") && !index.contains("'/viewer-"),
        "{index}"
    );
    let wasm = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().ends_with("_bg.wasm"));
    assert!(wasm, "the wasm module is exported");
}
