//! The web wallet in a real headless Chromium against `amanat serve`, and the
//! server's guards (token, Host header, CSP, no CORS) over raw HTTP.

use amanat_tests::browser::{Chrome, WalletServer, raw_post, raw_request, write_y4m};
use amanat_tests::{TestRelay, amanat_bare, read_qr, write_json};
use fantoccini::Locator;

/// A FHIR bundle with the demo patient's history, as a lab or hospital would send it.
fn demo_bundle(dir: &std::path::Path) -> std::path::PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let records = wallet_core::demo::family(240, now, 5).owner;
    let entries = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (format!("urn:uuid:{i}"), r))
        .collect();
    let bundle = wallet_core::fhir::bundle(
        "collection",
        "history",
        &wallet_core::fhir::date::FhirDateTime::from_unix(now),
        entries,
    );
    let path = dir.join("history.json");
    write_json(&path, &bundle);
    path
}

/// The API's refusal, checked to carry `status` and `error`.
#[track_caller]
fn refused(code: u16, answer: &str, status: u16, error: &str) -> wallet_core::contract::ErrorBody {
    let refusal: wallet_core::contract::ErrorBody = serde_json::from_str(answer).unwrap();
    assert_eq!((code, refusal.error.as_str()), (status, error), "{answer}");
    refusal
}

/// Opens the wallet's share wizard and picks how (`how-relay`, `how-shl`)
/// through `relay`.
async fn share_wizard_via(chrome: &Chrome, base: &str, how: &str, relay: &str) {
    chrome.client.goto(&format!("{base}/#/share")).await.unwrap();
    chrome.click(&format!("[data-testid={how}]")).await;
    chrome.type_in("[data-testid=relay-url]", relay).await;
}

/// The link of the share the wizard made.
async fn shown_link(chrome: &Chrome) -> String {
    chrome
        .wait("[data-testid=share-link]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_and_doctor_in_a_real_browser() {
    let relay = TestRelay::start(0);
    let server = WalletServer::start(&[]);
    let files = tempfile::tempdir().unwrap();
    let bundle = demo_bundle(files.path());
    let chrome = Chrome::start().await;
    let c = &chrome.client;

    // Create the wallet.
    c.goto(&server.url).await.unwrap();
    chrome
        .type_in("[data-testid=create-name]", "Ayesha Siddiqui")
        .await;
    chrome
        .type_in("[data-testid=create-cnic]", "35202-1234567-2")
        .await;
    chrome
        .type_in("[data-testid=create-phone]", "+92 300 1234567")
        .await;
    chrome
        .type_in("[data-testid=passphrase]", "a long test passphrase")
        .await;
    chrome.shot("01-create-wallet").await;
    assert_eq!(
        chrome.unlabelled_controls().await,
        Vec::<String>::new(),
        "every control has a label"
    );
    chrome.click("[data-testid=unlock-submit]").await;
    chrome
        .wait_text("[data-testid=patient-name]", "Ayesha Siddiqui")
        .await;
    chrome.wait_text(".patient", "+92 300 1234567").await;
    assert!(
        !c.current_url().await.unwrap().as_str().contains("login="),
        "the login code is moved out of the address bar"
    );
    // The session token lives in the page's memory only (it used to be kept
    // in sessionStorage, where any script or a disk reader could find it).
    let storage = c
        .execute(
            "const all = [];
             for (const s of [sessionStorage, localStorage])
               for (let i = 0; i < s.length; i++) all.push(s.key(i) + '=' + s.getItem(s.key(i)));
             return all.join('\\n');",
            vec![],
        )
        .await
        .unwrap();
    let storage = storage.as_str().unwrap_or_default().to_string();
    assert!(
        !storage.contains(&server.token),
        "the token is in web storage: {storage}"
    );
    assert!(!storage.contains("token"), "{storage}");

    // Import a FHIR bundle.
    c.goto(&format!("{}/#/import", server.base)).await.unwrap();
    chrome
        .type_in("[data-testid=import-input]", bundle.to_str().unwrap())
        .await;
    let result = chrome.wait_text("[data-testid=import-results]", "added").await;
    assert!(result.contains("history.json: 240 added"), "{result}");
    chrome.shot("02-import").await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());

    // Readings typed in with the quick form: an impossible one refused in
    // words; a good one saved as the patient's own and charted; glucose in
    // mmol/L converted.
    chrome.click("[data-testid=reading-bp]").await;
    chrome.type_in("[data-testid=reading-value]", "400").await;
    chrome.type_in("[data-testid=reading-second]", "20").await;
    chrome.click("[data-testid=reading-save]").await;
    chrome
        .wait_text(
            "[data-testid=reading-outcome]",
            "systolic blood pressure 400 mmHg is not possible",
        )
        .await;
    for (field, value) in [("reading-value", "128"), ("reading-second", "82")] {
        let input = chrome.wait(&format!("[data-testid={field}]")).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    chrome.click("[data-testid=reading-save]").await;
    chrome
        .wait_text("[data-testid=reading-outcome]", "Blood pressure: 128/82 mmHg")
        .await;
    chrome.click("[data-testid=reading-glucose]").await;
    chrome
        .wait("[data-testid=reading-unit-glucose]")
        .await
        .select_by_value("mmol/L")
        .await
        .unwrap();
    chrome.type_in("[data-testid=reading-value]", "7.8").await;
    chrome.click("[data-testid=reading-fasting]").await;
    chrome.shot("02b-reading").await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome.click("[data-testid=reading-save]").await;
    chrome
        .wait_text("[data-testid=reading-outcome]", "Fasting glucose: 141 mg/dL")
        .await;
    chrome.click("[data-testid=reading-chart]").await;
    let trend = chrome.wait_text(".trend table", "141").await;
    assert!(trend.contains("mg/dL"), "{trend}");

    // The summary, with a trend chart for HbA1c.
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome
        .wait_text("[data-testid=problems]", "Type 2 diabetes mellitus")
        .await;
    chrome.wait_text("[data-testid=allergies]", "Penicillin").await;
    let results = chrome.wait_text("[data-testid=results]", "Hemoglobin A1c").await;
    assert!(results.contains('%'), "{results}");
    let charts = c
        .find_all(Locator::Css(
            "[data-testid=results] [data-testid=trend-chart] polyline",
        ))
        .await
        .unwrap();
    assert!(!charts.is_empty(), "trend charts are drawn");
    let points = charts[0].attr("points").await.unwrap().unwrap_or_default();
    assert!(
        points.split(' ').count() >= 8,
        "a trend of several values: {points}"
    );
    chrome.shot("03-dashboard").await;

    // The timeline renders only the visible rows.
    c.goto(&format!("{}/#/records", server.base)).await.unwrap();
    // The bundle's 240 records and the two readings.
    chrome.wait_text("[data-testid=record-count]", "242").await;
    let rows = c
        .find_all(Locator::Css("[data-testid=record-row]"))
        .await
        .unwrap();
    assert!(
        rows.len() < 60,
        "only the visible slice is rendered, not all 242 ({})",
        rows.len()
    );
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome
        .type_in("[data-testid=filter-search]", "Hemoglobin A1c")
        .await;
    // Each keystroke refines the list; wait for the last one's answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let titles = loop {
        let mut titles = Vec::new();
        for row in c
            .find_all(Locator::Css("[data-testid=record-row]"))
            .await
            .unwrap()
        {
            titles.push(row.text().await.unwrap_or_default());
        }
        if !titles.is_empty() && titles.iter().all(|t| t.contains("Hemoglobin A1c")) {
            break titles;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the text filter never narrowed the list: {titles:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let count = chrome
        .wait("[data-testid=record-count]")
        .await
        .text()
        .await
        .unwrap();
    let n: usize = count
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(
        n >= titles.len() && n < 242,
        "{count} for {} rows shown",
        titles.len()
    );
    chrome.shot("04-timeline").await;

    // A trend page.
    c.goto(&format!(
        "{}/#/trend/{}",
        server.base, "http%3A%2F%2Floinc.org%7C4548-4"
    ))
    .await
    .unwrap();
    chrome.wait("[data-testid=trend-chart] rect").await;
    chrome.shot("05-trend").await;

    // Share the summary through the relay; read the QR code back from the screen.
    share_wizard_via(&chrome, &server.base, "how-relay", &relay.url).await;
    let sentence = chrome.wait_text("[data-testid=share-sentence]", "Share").await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    assert!(sentence.contains("for treatment, for 24 hours"), "{sentence}");
    chrome.click("[data-testid=create-share]").await;
    let qr = chrome.wait("[data-testid=share-qr] svg").await;
    chrome
        .wait_text("[data-testid=countdown]", "Expires in 23 h")
        .await;
    let link = shown_link(&chrome).await;
    // A relay share opens in its relay's viewer: the code is that URL.
    assert!(link.starts_with(&format!("{}/#AMANAT/", relay.url)), "{link}");
    let png = qr.screenshot().await.unwrap();
    assert_eq!(read_qr(&png), link, "the QR code on screen holds the link");
    chrome.shot("06-share").await;

    // The doctor, on another device, points a camera at the patient's screen:
    // decoded and verified in the doctor's browser.
    let y4m = files.path().join("screen.y4m");
    write_y4m(&png, &y4m);
    let doctor_phone = Chrome::with_camera(&y4m).await;
    doctor_phone
        .client
        .goto(&format!("{}/#/receive", server.base))
        .await
        .unwrap();
    doctor_phone.click("[data-testid=camera]").await;
    let verified = doctor_phone.wait_text("[data-testid=verified]", "Verified").await;
    assert!(
        verified.contains("Ayesha Siddiqui") && verified.contains("treatment (CAREMGT)"),
        "{verified}"
    );
    doctor_phone.shot("07-doctor-camera").await;
    doctor_phone.quit().await;

    // A photo of the QR code, uploaded.
    let photo = files.path().join("qr.png");
    std::fs::write(&photo, &png).unwrap();
    c.goto(&format!("{}/#/receive", server.base)).await.unwrap();
    chrome
        .type_in("[data-testid=receive-image]", photo.to_str().unwrap())
        .await;
    chrome
        .wait_text("[data-testid=verified]", "Ayesha Siddiqui")
        .await;

    // The link itself, opened from the address bar.
    let doctor = format!("{}/#/receive/{}", server.base, js_encode(&link));
    c.goto(&doctor).await.unwrap();
    let verified = chrome.wait_text("[data-testid=verified]", "Verified").await;
    assert!(verified.contains("Ayesha Siddiqui"), "{verified}");
    assert!(verified.contains("treatment (CAREMGT)"), "{verified}");
    let received = c
        .find_all(Locator::Css("[data-testid=received-record]"))
        .await
        .unwrap();
    assert!(received.len() >= 10, "the summary's records ({})", received.len());
    chrome.shot("08-doctor-verified").await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());

    // A link altered in transit is refused, and says so.
    let mut tampered = link.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'Q' { b'R' } else { b'Q' };
    c.goto(&format!("{}/#/receive", server.base)).await.unwrap();
    let area = chrome.wait("[data-testid=receive-link]").await;
    area.send_keys(&String::from_utf8(tampered).unwrap())
        .await
        .unwrap();
    chrome.click("[data-testid=receive-open]").await;
    let refused = chrome.wait_text("[data-testid=refused]", "Refused").await;
    assert!(
        refused.contains("the share link is damaged") && refused.contains("a character was changed"),
        "{refused}"
    );

    // Revoke; the doctor's view now refuses, saying why.
    c.goto(&format!("{}/#/grants", server.base)).await.unwrap();
    chrome.click("[data-testid=revoke]").await;
    chrome.wait_text("[data-testid=grant-status]", "revoked").await;
    chrome.shot("09-grants").await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    c.goto(&doctor).await.unwrap();
    let refused = chrome.wait_text("[data-testid=refused]", "revoked").await;
    assert!(refused.contains("the patient revoked this share"), "{refused}");
    chrome.shot("10-doctor-refused").await;

    // The audit log, and Urdu, right to left.
    c.goto(&format!("{}/#/audit", server.base)).await.unwrap();
    let audit = chrome
        .wait_text("[data-testid=audit-table]", "revoked share")
        .await;
    assert!(
        audit.contains("imported 240 record(s) from history.json"),
        "{audit}"
    );
    assert!(
        audit.contains("link holder at 127.0.0.1") && audit.contains("opened (use 1)"),
        "the doctor's access is logged: {audit}"
    );
    chrome.click("[data-testid=lang-ur]").await;
    let dir = c
        .execute("return document.documentElement.dir", vec![])
        .await
        .unwrap();
    assert_eq!(dir, serde_json::json!("rtl"));
    chrome
        .wait_text("[data-testid=nav-share]", "ڈاکٹر کو دکھائیں")
        .await;
    // The log itself is in Urdu: each entry is said from its event data.
    let audit = chrome.wait_text("[data-testid=audit-table]", "منسوخ کیا").await;
    assert!(
        audit.contains("history.json سے 240 ریکارڈ") && audit.contains("کھولا گیا (استعمال 1)"),
        "{audit}"
    );
    assert!(
        !audit.contains("revoked share"),
        "English left in the Urdu log: {audit}"
    );
    chrome.shot("11-audit-urdu").await;
    // The share wizard's sentence and choices are Urdu too, in Urdu word order.
    chrome.click("[data-testid=nav-share]").await;
    let sentence = chrome.wait_text("[data-testid=share-sentence]", "علاج").await;
    assert!(
        sentence.contains("شیئر کریں") && sentence.contains("24 گھنٹے"),
        "{sentence}"
    );
    chrome.shot("11-share-urdu").await;
    // Print for a doctor, in Urdu: the wallet makes the PDF with a relay
    // share's QR code; the page links it for the browser's PDF viewer.
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome.type_in("[data-testid=print-relay]", &relay.url).await;
    chrome.click("[data-testid=print-make]").await;
    chrome.wait("[data-testid=summary-pdf]").await;
    chrome.shot("11-print-urdu").await;
    chrome.click("[data-testid=summary-pdf-save]").await;
    let pdf = files.path().join("printed.pdf");
    std::fs::write(&pdf, chrome.downloaded("amanat-summary.pdf").await).unwrap();
    let (printed, pages, _) = crate::printing::read_pdf(&pdf);
    assert!(pages <= 2, "{pages} pages");
    for words in ["مریض کا خلاصہ", "Ayesha Siddiqui", "الرجی", "Penicillin"] {
        assert!(printed.contains(words), "{words:?} missing from:\n{printed}");
    }
    let printed_link = crate::printing::qr_on_page(&pdf);
    let opened = amanat_bare(&["receive", "--json", &printed_link], &[]).json();
    assert_eq!(opened["grant"]["purpose"], "CAREMGT", "{opened}");
    chrome.click("[data-testid=lang-hi]").await;
    chrome
        .wait_text("[data-testid=nav-share]", "डॉक्टर से साझा करें")
        .await;
    chrome.click("[data-testid=lang-en]").await;

    // The emergency card: made through a relay, opened by a stranger's
    // phone (the open shows with its time), renewed (the old code dies, the
    // contacts stay), printed, taken back.
    let host = server.base.trim_start_matches("http://").to_string();
    let card_link = || {
        let (_, _, body) = raw_request(
            &server.base,
            "GET",
            "/api/emergency-card",
            &host,
            Some(&server.token),
        );
        let card: Option<wallet_core::contract::EmergencyCard> = serde_json::from_str(&body).unwrap();
        card.map(|c| c.link)
    };
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome.click("[data-testid=emergency-link]").await;
    chrome.wait("[data-testid=no-card]").await;
    chrome.type_in("[data-testid=card-relay]", &relay.url).await;
    chrome
        .type_in(
            "[data-testid=card-contacts-input]",
            "Bilal Siddiqui (husband) +92 300 1234567",
        )
        .await;
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome.click("[data-testid=card-make]").await;
    chrome
        .wait_text("[data-testid=card-contacts]", "Bilal Siddiqui")
        .await;
    chrome
        .wait_text("[data-testid=card-allergies]", "Penicillin")
        .await;
    chrome
        .wait_text("[data-testid=card-opens]", "Not opened yet")
        .await;
    let first = card_link().expect("a card");
    amanat_bare(&["receive", &first], &[]).ok();
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome.click("[data-testid=emergency-link]").await;
    let opens = chrome
        .wait_text("[data-testid=card-opens]", "Opened (1): 20")
        .await;
    assert!(opens.contains("UTC"), "{opens}");
    chrome.shot("12-emergency-card").await;
    chrome.type_in("[data-testid=card-relay]", &relay.url).await;
    chrome.click("[data-testid=card-make]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "the card before")
        .await;
    chrome
        .wait_text("[data-testid=card-opens]", "Not opened yet")
        .await;
    chrome
        .wait_text("[data-testid=card-contacts]", "Bilal Siddiqui")
        .await;
    amanat_bare(&["receive", &first], &[]).fails_saying(6, "revoked");
    let second = card_link().expect("the renewed card");
    assert_ne!(second, first);
    chrome.click("[data-testid=card-print]").await;
    chrome.wait("[data-testid=card-pdf-save]").await;
    chrome.click("[data-testid=card-pdf-save]").await;
    let card_pdf = files.path().join("card.pdf");
    std::fs::write(&card_pdf, chrome.downloaded("amanat-emergency-card.pdf").await).unwrap();
    let (printed, _, _) = crate::printing::read_pdf(&card_pdf);
    for words in [
        "EMERGENCY HEALTH CARD",
        "Penicillin",
        "Bilal Siddiqui (husband) +92 300 1234567",
    ] {
        assert!(printed.contains(words), "{words:?} missing from:\n{printed}");
    }
    assert_eq!(crate::printing::qr_on_page(&card_pdf), second);
    chrome.click("[data-testid=card-revoke]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "opens nothing from now on")
        .await;
    chrome.wait("[data-testid=no-card]").await;
    amanat_bare(&["receive", &second], &[]).fails_saying(6, "revoked");

    // Lock: the unlock screen; the wrong passphrase is refused; the right one opens.
    chrome.click("[data-testid=lock]").await;
    // From the keyboard: type, then Enter.
    chrome
        .type_in("[data-testid=passphrase]", "not my passphrase\u{E007}")
        .await;
    chrome
        .wait_text("[data-testid=banner-error]", "wrong passphrase")
        .await;
    chrome.shot("12-locked").await;
    let field = chrome.wait("[data-testid=passphrase]").await;
    field.clear().await.unwrap();
    field.send_keys("a long test passphrase").await.unwrap();
    chrome.click("[data-testid=unlock-submit]").await;
    chrome.wait("[data-testid=lock]").await;
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome
        .wait_text("[data-testid=patient-name]", "Ayesha Siddiqui")
        .await;

    // A phone-sized screen: nothing needs sideways scrolling.
    c.set_window_size(390, 844).await.unwrap();
    for (route, ready) in [
        ("#/", "[data-testid=patient-name]"),
        ("#/records", "[data-testid=record-row]"),
        ("#/share", "[data-testid=create-share]"),
        ("#/receive", "[data-testid=receive-link]"),
    ] {
        c.goto(&format!("{}/{route}", server.base)).await.unwrap();
        chrome.wait(ready).await;
        assert!(
            chrome.overflow_x().await <= 0,
            "{route} scrolls sideways on a phone"
        );
    }
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome
        .wait_text("[data-testid=patient-name]", "Ayesha Siddiqui")
        .await;
    chrome.shot("13-phone").await;

    // No health data in browser storage.
    let stored = c
        .execute(
            "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])",
            vec![],
        )
        .await
        .unwrap();
    let stored = stored.as_str().unwrap_or_default().to_string();
    for needle in ["Ayesha", "Hemoglobin", "diabetes", "AMANAT:"] {
        assert!(
            !stored.contains(needle),
            "'{needle}' in browser storage: {stored}"
        );
    }

    // The same summary as a SMART Health Link, the wizard's third way: a
    // standard link at the relay's viewer, which opens it verified (last:
    // leaving the wallet's page signs it out).
    share_wizard_via(&chrome, &server.base, "how-shl", &relay.url).await;
    chrome.click("[data-testid=create-share]").await;
    chrome.wait("[data-testid=share-qr] svg").await;
    let shl = shown_link(&chrome).await;
    assert!(shl.starts_with(&format!("{}/#shlink:/", relay.url)), "{shl}");
    c.goto(&shl).await.unwrap();
    chrome
        .wait_text("[data-testid=verified]", "Ayesha Siddiqui")
        .await;
    chrome.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_family_passphrase_and_backup_in_a_real_browser() {
    let v = amanat_tests::TestVault::new();
    v.install_plugin("lab-import.wasm");
    let report = v.scratch("report.hl7");
    std::fs::write(&report, crate::plugins::ORU).unwrap();
    // A result the lab's system signed with the key its plugin is signed with.
    let glucose = v.scratch("glucose.json");
    write_json(
        &glucose,
        &serde_json::json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
            "effectiveDateTime": "2026-11-29", "valueQuantity": {"value": 5.4, "unit": "mmol/L"}}),
    );
    amanat_tests::amanat_bare(
        &[
            "plugin",
            "sign-record",
            glucose.to_str().unwrap(),
            "--key",
            amanat_tests::built_plugin("publisher.key").to_str().unwrap(),
            "--registry",
            "Lab Plugin Directory",
        ],
        &[("AMANAT_PUBLISHER_PASSPHRASE", "amanat development publisher")],
    )
    .ok();
    let signed = v.scratch("glucose.amanat-record");
    // Two attachments: a page whose script reaches into the wallet's page (as
    // an unsandboxed frame of the wallet's origin let it), and a PDF.
    let attached = |title: &str, mime: &str, bytes: &[u8]| {
        use base64::Engine;
        let file = v.scratch(&format!("{title}.json"));
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        write_json(
            &file,
            &serde_json::json!({"resourceType": "DocumentReference", "status": "current", "date": "2026-01-05T10:00:00Z",
                "description": title, "content": [{"attachment": {"contentType": mime, "title": title, "data": data}}]}),
        );
        v.run(&["import", file.to_str().unwrap()]).ok();
        let listed = v.run(&["list", "--json", "--type", "DocumentReference"]).json();
        let found = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["title"].as_str().unwrap_or("").contains(title));
        found.expect("the document is listed")["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let page = attached(
        "Discharge note",
        "text/html",
        b"<script>parent.document.title = 'taken over'; parent.document.body.dataset.taken = '1'</script>",
    );
    let pdf = attached("Lab report", "application/pdf", b"%PDF-1.4\n%%EOF\n");
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&server.url).await.unwrap();
    chrome
        .wait_text("[data-testid=patient-name]", "Ayesha Siddiqui")
        .await;

    // The page is offered as a download, never framed; the PDF is framed in a
    // sandbox that gives it an origin of its own.
    c.goto(&format!("{}/#/record/{page}", server.base)).await.unwrap();
    chrome.wait("[data-testid=attachment-download]").await;
    assert!(c.find_all(Locator::Css("iframe")).await.unwrap().is_empty());
    let taken = c
        .execute(
            "return document.title + '|' + (document.body.dataset.taken || '')",
            vec![],
        )
        .await
        .unwrap();
    assert!(!taken.as_str().unwrap_or_default().contains("taken"), "{taken}");
    c.goto(&format!("{}/#/record/{pdf}", server.base)).await.unwrap();
    let frame = chrome.wait("iframe[data-testid=attachment]").await;
    assert_eq!(
        frame.attr("sandbox").await.unwrap().as_deref(),
        Some("allow-scripts")
    );

    // A lab's plugin: its permissions in plain words; run it; confirm what it proposes.
    c.goto(&format!("{}/#/plugins", server.base)).await.unwrap();
    let card = chrome.wait_text("[data-testid=plugin-card]", "lab-import").await;
    assert!(
        card.contains("suggest new test results and measurements (Observation)"),
        "{card}"
    );
    assert!(card.contains("no internet access"), "{card}");
    assert!(
        card.contains("UNKNOWN PUBLISHER: it calls itself 'Amanat sample plugins'"),
        "no trusted registry lists the development key: {card}"
    );
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome
        .type_in("[data-testid=plugin-file]", report.to_str().unwrap())
        .await;
    chrome.click("[data-testid=plugin-run]").await;
    let result = chrome
        .wait_text("[data-testid=plugin-result]", "Read 2 result(s) from CHUGHTAI")
        .await;
    assert!(
        result.contains("Hemoglobin A1c"),
        "the proposed records are listed: {result}"
    );
    chrome.shot("20-plugin-proposal").await;
    chrome.click("[data-testid=plugin-save]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "Saved 3 record(s)")
        .await;
    c.goto(&format!("{}/#/records", server.base)).await.unwrap();
    chrome.wait_text("[data-testid=record-count]", "5 ").await;
    chrome
        .wait_text(
            "[data-testid=timeline]",
            "Hemoglobin A1c/Hemoglobin.total in Blood: 7.4 %",
        )
        .await;
    // The lab's signed result: proposed as signed by its publisher (not saved here).
    c.goto(&format!("{}/#/plugins", server.base)).await.unwrap();
    chrome.wait_text("[data-testid=plugin-card]", "lab-import").await;
    chrome
        .type_in("[data-testid=plugin-file]", signed.to_str().unwrap())
        .await;
    chrome.click("[data-testid=plugin-run]").await;
    chrome
        .wait_text(
            "[data-testid=plugin-result]",
            "your wallet checked the lab's signature",
        )
        .await;
    chrome
        .wait_text("[data-testid=proposal-signed]", "signed by its publisher")
        .await;

    // A family member.
    c.goto(&format!("{}/#/settings", server.base)).await.unwrap();
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome.type_in("[data-testid=family-name]", "Zara Siddiqui").await;
    chrome.click("[data-testid=family-add]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "Added Zara Siddiqui")
        .await;
    chrome
        .wait_text("[data-testid=profile-switch]", "Zara Siddiqui")
        .await;

    // Where offline share codes open: a plain-http address is refused with
    // the CLI's words; an https one is kept (and read back by the CLI later).
    let viewer = chrome.wait("[data-testid=viewer-url]").await;
    viewer.send_keys("http://viewer.example").await.unwrap();
    chrome.click("[data-testid=viewer-save]").await;
    chrome
        .wait_text("[data-testid=banner-error]", "must start with https://")
        .await;
    viewer.clear().await.unwrap();
    viewer.send_keys("https://viewer.example").await.unwrap();
    chrome.click("[data-testid=viewer-save]").await;
    chrome.wait_text("[data-testid=banner-ok]", "Saved.").await;
    let saved = chrome
        .wait("[data-testid=viewer-url]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(saved.as_deref(), Some("https://viewer.example/"));

    // A backup, downloaded; it opens with its passphrase and holds the records.
    chrome
        .type_in("[data-testid=backup-passphrase]", "backup passphrase here")
        .await;
    chrome.click("[data-testid=backup-download]").await;
    let backup = chrome.downloaded("amanat-backup.age").await;
    let identity: Box<dyn age::Identity> = Box::new(age::scrypt::Identity::new(
        age::secrecy::SecretString::from("backup passphrase here"),
    ));
    let restored = wallet_core::import::records_from_bytes(
        "amanat-backup.age",
        &backup,
        &[identity],
        &Default::default(),
        0,
    )
    .expect("the backup opens");
    assert_eq!(
        restored.len(),
        5,
        "the plugin's three records and the two documents"
    );

    // The passphrase: the wrong current one is refused; then changed, and the new one unlocks.
    chrome
        .type_in("[data-testid=passphrase-current]", "not the passphrase")
        .await;
    chrome
        .type_in("[data-testid=passphrase-new]", "a brand new passphrase")
        .await;
    chrome.click("[data-testid=passphrase-change]").await;
    chrome
        .wait_text("[data-testid=banner-error]", "wrong passphrase")
        .await;
    let current = chrome.wait("[data-testid=passphrase-current]").await;
    current.clear().await.unwrap();
    current.send_keys(amanat_tests::PASSPHRASE).await.unwrap();
    chrome.click("[data-testid=passphrase-change]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "Passphrase changed")
        .await;
    chrome.shot("21-settings").await;
    chrome.click("[data-testid=lock]").await;
    chrome
        .type_in("[data-testid=passphrase]", "a brand new passphrase\u{E007}")
        .await;
    chrome.wait("[data-testid=lock]").await;
    chrome.quit().await;
    drop(server);
    v.run_env(&["summary"], &[("AMANAT_PASSPHRASE", "a brand new passphrase")])
        .ok_saying("Ayesha Siddiqui");
    v.run_env(&["settings"], &[("AMANAT_PASSPHRASE", "a brand new passphrase")])
        .ok_saying("https://viewer.example/");
}

fn js_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[test]
fn the_api_wants_the_token_and_the_host_must_be_loopback() {
    let server = WalletServer::start(&[]);
    let host = server.base.trim_start_matches("http://").to_string();
    let (status, head, body) = raw_request(&server.base, "GET", "/api/status", &host, None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("unauthorized"), "{body}");
    let (status, ..) = raw_request(&server.base, "GET", "/api/status", &host, Some("not-the-token"));
    assert_eq!(status, 401);
    let (status, _, body) = raw_request(&server.base, "GET", "/api/status", &host, Some(&server.token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"locked\":true"), "starts locked: {body}");
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(!head.contains("access-control-allow-origin"), "no CORS: {head}");
    // DNS rebinding: right address, wrong name.
    for bad in [
        "evil.example",
        "evil.example:80",
        &format!("attacker.com:{}", host.rsplit(':').next().unwrap()),
        "127.0.0.1:1",
    ] {
        let (status, _, body) = raw_request(&server.base, "GET", "/api/status", bad, Some(&server.token));
        assert_eq!(status, 421, "Host {bad}: {body}");
        let (status, ..) = raw_request(&server.base, "GET", "/", bad, None);
        assert_eq!(status, 421, "the page too, Host {bad}");
    }
    let (status, head, body) = raw_request(&server.base, "GET", "/", &host, None);
    assert_eq!(status, 200);
    assert!(body.contains("<html") || body.contains("<!doctype"), "{body}");
    assert!(
        head.contains("'wasm-unsafe-eval'") && head.contains("'sha256-"),
        "CSP allows exactly the loader script: {head}"
    );
    assert!(head.contains("frame-ancestors 'none'"), "{head}");
    let (status, ..) = raw_request(&server.base, "GET", "/api/records", &host, Some(&server.token));
    assert_eq!(status, 423, "locked: no records");
}

#[test]
fn the_server_starts_unlocked_with_the_passphrase_in_the_environment() {
    let v = amanat_tests::TestVault::new();
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let host = server.base.trim_start_matches("http://").to_string();
    let (status, _, body) = raw_request(&server.base, "GET", "/api/status", &host, Some(&server.token));
    assert_eq!(status, 200);
    // The answer is the contract's type, as the web app reads it.
    let status: wallet_core::contract::Status = serde_json::from_str(&body).unwrap();
    assert!(!status.locked, "{body}");
    assert_eq!(status.profiles[0].name, "Ayesha Siddiqui");
    // A share request with a purpose or access mode the wallet does not know
    // is refused with the same words as the CLI's, as an ErrorBody.
    // The audit log comes worded in the asked language; one the wallet does
    // not speak gets English rather than an error.
    for (lang, words) in [("ur", "والٹ"), ("hi", "वॉलेट"), ("fr", "created wallet")] {
        let path = format!("/api/audit?lang={lang}");
        let (code, _, body) = raw_request(&server.base, "GET", &path, &host, Some(&server.token));
        let rows: Vec<wallet_core::contract::AuditRow> = serde_json::from_str(&body).unwrap();
        assert_eq!(code, 200, "{body}");
        assert!(rows[0].what.contains(words), "{lang}: {body}");
    }
    for (body, words) in [
        (
            r#"{"purpose": "gossip", "seconds": 60}"#,
            "'gossip' is not a purpose",
        ),
        (
            r#"{"purpose": "CAREMGT", "seconds": 60, "mode": "keep"}"#,
            "'keep' is not an access mode",
        ),
    ] {
        let (code, _, answer) = raw_post(&server.base, "/api/shares", &host, &server.token, body);
        let refusal: wallet_core::contract::ErrorBody = serde_json::from_str(&answer).unwrap();
        assert_eq!((code, refusal.error.as_str()), (400, "bad request"), "{answer}");
        assert!(refusal.message.contains(words), "{answer}");
    }
    // A file about someone else is refused, both people named, unless the
    // patient accepts it (the same rules as `amanat import`).
    let khan = r#"{"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}], "birthDate": "1968-04-12",
            "identifier": [{"value": "35202-1234567-4"}]}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "HbA1c"},
            "valueQuantity": {"value": 7.2, "unit": "%"}}}]}"#;
    let (code, _, answer) = raw_post(
        &server.base,
        "/api/import?profile=ayesha",
        &host,
        &server.token,
        khan,
    );
    let refusal = refused(code, &answer, 409, "patient mismatch");
    assert!(
        refusal
            .message
            .contains("this file is about Ayesha Khan, born 1968-04-12, CNIC 35202-1234567-4")
            && refusal
                .message
                .contains("CNIC 35202-1234567-4 in the file, 35202-1234567-2 in the profile"),
        "{answer}"
    );
    let path = "/api/import?profile=ayesha&accept_mismatch=true";
    let (code, _, answer) = raw_post(&server.base, path, &host, &server.token, khan);
    assert_eq!(code, 200, "{answer}");
    // A reading from the quick form: saved as the patient's own, in the
    // contract's shape; an impossible one refused in words, nothing saved.
    let reading = r#"{"kind": "glucose", "value": "7.8", "unit": "mmol/L", "fasting": true}"#;
    let (code, _, answer) = raw_post(&server.base, "/api/readings", &host, &server.token, reading);
    assert_eq!(code, 200, "{answer}");
    let entered: wallet_core::contract::Entered = serde_json::from_str(&answer).unwrap();
    assert_eq!(entered.record.title, "Fasting glucose: 141 mg/dL");
    assert_eq!(entered.record.source, "entered by the patient");
    assert_eq!(entered.series.as_deref(), Some("http://loinc.org|1558-6"));
    let records = |server: &WalletServer| {
        let (_, _, body) = raw_request(&server.base, "GET", "/api/records", &host, Some(&server.token));
        serde_json::from_str::<Vec<wallet_core::contract::RecordRow>>(&body)
            .unwrap()
            .len()
    };
    let before = records(&server);
    let (code, _, answer) = raw_post(
        &server.base,
        "/api/readings",
        &host,
        &server.token,
        r#"{"kind": "bp", "value": "400/20"}"#,
    );
    let refusal: wallet_core::contract::ErrorBody = serde_json::from_str(&answer).unwrap();
    assert_eq!((code, refusal.error.as_str()), (422, "bad reading"), "{answer}");
    assert_eq!(
        refusal.message,
        "systolic blood pressure 400 mmHg is not possible: it must lie between 50 and 300 mmHg"
    );
    assert_eq!(records(&server), before, "nothing was saved");
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "loopback only: {}",
        server.url
    );
}

#[test]
fn the_api_keeps_a_lab_report_about_someone_else_until_the_patient_accepts_it() {
    let v = amanat_tests::TestVault::new();
    v.install_plugin("lab-import.wasm");
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let host = server.base.trim_start_matches("http://").to_string();
    let zara = crate::plugins::ORU.replace(
        "35202-1234567-2^^^NADRA^NI||Siddiqui^Ayesha",
        "35202-7654321-8^^^NADRA^NI||Khan^Zara",
    );
    use base64::Engine;
    let run = serde_json::json!({"action": "import", "records": [], "file_name": "zara.hl7",
        "file_base64": base64::engine::general_purpose::STANDARD.encode(zara)});
    let (code, _, answer) = raw_post(
        &server.base,
        "/api/plugins/lab-import/run",
        &host,
        &server.token,
        &run.to_string(),
    );
    assert_eq!(code, 200, "{answer}");
    let run: wallet_core::contract::PluginRun = serde_json::from_str(&answer).unwrap();
    let save = format!("/api/plugin-runs/{}", run.run_id);
    let (code, _, answer) = raw_post(&server.base, &save, &host, &server.token, "");
    let refusal = refused(code, &answer, 409, "patient mismatch");
    assert!(
        refusal.message.contains("this file is about Zara Khan"),
        "{answer}"
    );
    // Still pending: the patient may save it anyway.
    let (code, _, answer) = raw_post(
        &server.base,
        &format!("{save}?accept_mismatch=true"),
        &host,
        &server.token,
        "",
    );
    assert_eq!(code, 200, "{answer}");
    let saved: wallet_core::contract::Saved = serde_json::from_str(&answer).unwrap();
    assert_eq!(saved.added, 3);
}

#[test]
fn the_web_import_fills_a_blank_profile_when_asked() {
    let v = amanat_tests::TestVault::empty();
    v.run(&["init"]).ok();
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let host = server.base.trim_start_matches("http://").to_string();
    let khan = r#"{"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}], "birthDate": "1968-04-12",
            "identifier": [{"value": "35202-1234567-4"}]}}]}"#;
    let (code, _, answer) = raw_post(
        &server.base,
        "/api/import?fill_profile=true",
        &host,
        &server.token,
        khan,
    );
    assert_eq!(code, 200, "{answer}");
    let (_, _, body) = raw_request(&server.base, "GET", "/api/status", &host, Some(&server.token));
    let status: wallet_core::contract::Status = serde_json::from_str(&body).unwrap();
    let me = &status.profiles[0];
    assert_eq!(
        (me.name.as_str(), me.birth_date.as_deref(), me.cnic.as_deref()),
        ("Ayesha Khan", Some("1968-04-12"), Some("35202-1234567-4")),
        "{body}"
    );
}

#[test]
fn a_login_code_works_once_and_the_address_never_holds_the_session_token() {
    let mut server = WalletServer::start(&[]);
    // The address `serve` prints (and hands to xdg-open, whose command line
    // other local users can read) holds a one-time code, not the token.
    assert!(server.url.contains("/?login="), "{}", server.url);
    assert!(!server.url.contains(&server.token), "{}", server.url);
    let printed = server.url.split("login=").nth(1).unwrap().to_string();
    let (status, body) = server.sign_in(&printed);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&server.token), "{body}");
    let (status, body) = server.sign_in(&printed);
    assert_eq!(status, 401, "a used code is refused: {body}");
    assert!(
        body.contains("used already or is more than a minute old"),
        "{body}"
    );
    let (status, _) = server.sign_in("made-up-code");
    assert_eq!(status, 401);
    // Pressing Enter where serve runs gives a fresh link.
    let fresh = server.new_login_code();
    assert_ne!(fresh, printed);
    assert_eq!(server.sign_in(&fresh).0, 200);
}

#[test]
fn the_api_prints_nothing_and_shares_nothing_without_the_fonts() {
    let v = amanat_tests::TestVault::new();
    v.run(&["add", "weight", "70"]).ok();
    let no_fonts = v.scratch("no-fonts");
    std::fs::create_dir_all(&no_fonts).unwrap();
    let server = WalletServer::on(
        &v.dir,
        &[
            ("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE),
            ("AMANAT_FONT_DIR", no_fonts.to_str().unwrap()),
        ],
    );
    let host = server.base.trim_start_matches("http://").to_string();
    let (code, _, answer) = raw_post(
        &server.base,
        "/api/summary/pdf",
        &host,
        &server.token,
        r#"{"lang": "ur"}"#,
    );
    let error = refused(code, &answer, 503, "no fonts");
    assert!(error.message.contains("apt install fonts-noto-core"), "{answer}");
    let (_, _, grants) = raw_request(&server.base, "GET", "/api/grants", &host, Some(&server.token));
    assert_eq!(grants, "[]", "no share was made for a PDF that was not made");
}

#[test]
fn the_api_refuses_an_emergency_card_without_a_relay_and_says_when_there_is_none() {
    let v = amanat_tests::TestVault::new();
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let host = server.base.trim_start_matches("http://").to_string();
    let post = |path: &str, body: &str| raw_post(&server.base, path, &host, &server.token, body);
    let (code, _, answer) = post("/api/emergency-card", r#"{"relay": " ", "contacts": ["Bilal"]}"#);
    let error = refused(code, &answer, 400, "bad request");
    assert!(error.message.contains("needs a relay"), "{answer}");
    for path in ["/api/emergency-card/revoke", "/api/emergency-card/pdf"] {
        let (code, _, answer) = post(path, "{}");
        let error = refused(code, &answer, 404, "not found");
        assert!(
            error.message.contains("no emergency card in force"),
            "{path}: {answer}"
        );
    }
    let (code, _, body) = raw_request(
        &server.base,
        "GET",
        "/api/emergency-card",
        &host,
        Some(&server.token),
    );
    assert_eq!((code, body.as_str()), (200, "null"));
    let (_, _, grants) = raw_request(&server.base, "GET", "/api/grants", &host, Some(&server.token));
    assert_eq!(grants, "[]", "nothing was shared");
}

/// The dialogs of "whose records are these": a blank profile filled from a
/// file's patient on the patient's word, someone else's file imported
/// anyway, a plugin's report about someone else saved anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_asks_whose_records_before_filling_a_profile_or_taking_someone_elses() {
    let v = amanat_tests::TestVault::empty();
    v.run(&["init"]).ok();
    v.install_plugin("lab-import.wasm");
    let patient = |file: &str, name: &str, cnic: &str, born: &str| {
        let path = v.scratch(file);
        write_json(
            &path,
            &serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "Patient", "name": [{"text": name}], "birthDate": born,
                    "identifier": [{"system": "https://nadra.gov.pk/cnic", "value": cnic}]}}]}),
        );
        path
    };
    let khan = patient("khan.json", "Ayesha Khan", "35202-1234567-4", "1968-04-12");
    let zara = patient("zara.json", "Zara Khan", "35202-7654321-8", "2016-09-03");
    // The lab report names Ayesha Siddiqui: someone else, once the profile is Ayesha Khan.
    let report = v.scratch("report.hl7");
    std::fs::write(&report, crate::plugins::ORU).unwrap();
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&server.url).await.unwrap();
    chrome.wait("[data-testid=patient-name]").await;

    c.goto(&format!("{}/#/import", server.base)).await.unwrap();
    let input = chrome.wait("[data-testid=import-input]").await;
    input.send_keys(khan.to_str().unwrap()).await.unwrap();
    let offer = chrome
        .wait_text("[data-testid=import-results]", "Ayesha Khan")
        .await;
    assert!(
        offer.contains("This profile has no details yet") && offer.contains("CNIC 35202-1234567-4"),
        "{offer}"
    );
    assert_eq!(chrome.unlabelled_controls().await, Vec::<String>::new());
    chrome.shot("30-fill-profile-offer").await;
    chrome.click("[data-testid=fill-profile]").await;
    chrome
        .wait_text("[data-testid=import-results]", "Profile filled")
        .await;
    c.goto(&format!("{}/#/", server.base)).await.unwrap();
    chrome
        .wait_text("[data-testid=patient-name]", "Ayesha Khan")
        .await;

    // Someone else's file: refused with both named, imported on the patient's word.
    c.goto(&format!("{}/#/import", server.base)).await.unwrap();
    let input = chrome.wait("[data-testid=import-input]").await;
    input.send_keys(zara.to_str().unwrap()).await.unwrap();
    let refusal = chrome
        .wait_text("[data-testid=import-results]", "Zara Khan")
        .await;
    assert!(refusal.contains("Ayesha Khan"), "both are named: {refusal}");
    chrome.shot("31-import-anyway").await;
    chrome.click("[data-testid=import-anyway]").await;
    chrome.wait_text("[data-testid=import-results]", "1 added").await;

    // A plugin's report about someone else: kept until the patient says.
    c.goto(&format!("{}/#/plugins", server.base)).await.unwrap();
    chrome
        .type_in("[data-testid=plugin-file]", report.to_str().unwrap())
        .await;
    chrome.click("[data-testid=plugin-run]").await;
    chrome
        .wait_text("[data-testid=plugin-result]", "Hemoglobin A1c")
        .await;
    chrome.click("[data-testid=plugin-save]").await;
    let refusal = chrome
        .wait_text("[data-testid=banner-error]", "this file is about Ayesha Siddiqui")
        .await;
    assert!(refusal.contains("Ayesha Khan"), "{refusal}");
    chrome.click("[data-testid=plugin-save-anyway]").await;
    chrome
        .wait_text("[data-testid=banner-ok]", "Saved 3 record(s)")
        .await;
    chrome.quit().await;
}
