//! SMART Health Links both ways, against an independent implementation (npm
//! `kill-the-clipboard`, installed by the README's test command into
//! target/js): Amanat's links open in its viewer library, its links open in
//! `amanat receive`, in every flag combination the IG allows. The relay's
//! passcode attempts (on sled and on Redis), expiry, revocation, and the bad
//! input a hostile link server can send.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use amanat_tests::redis::shared_redis;
use amanat_tests::{TestHttpServer, TestRelay, amanat_bare};
use serde_json::Value;
use wallet_core::share::shl::ShlLink;

use crate::sharing::wallet_with_records;
use crate::viewer::open;

const PHRASE: &str = "the clinic on mall road, lahore";

/// target/js/shl.mjs, copied from tests/js where it is kept.
fn script() -> PathBuf {
    amanat_tests::kill_the_clipboard_script("shl.mjs")
}

/// kill-the-clipboard's SHLViewer opens `link`: `Ok(resolved)` or `Err(error)`.
fn their_viewer(link: &str, passcode: Option<&str>) -> Result<Value, Value> {
    their_viewer_with(link, passcode, None)
}

/// [`their_viewer`], asking for files over `embedded_max` bytes by `location`.
fn their_viewer_with(
    link: &str,
    passcode: Option<&str>,
    embedded_max: Option<usize>,
) -> Result<Value, Value> {
    let mut cmd = Command::new("node");
    cmd.arg(script())
        .args(["resolve", link, "Dr. Rao, Mayo Hospital", passcode.unwrap_or("-")]);
    if let Some(max) = embedded_max {
        cmd.arg(max.to_string());
    }
    let out = cmd.output().expect("node runs");
    let said: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "kill-the-clipboard printed no JSON: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if out.status.success() { Ok(said) } else { Err(said) }
}

/// A link kill-the-clipboard made and serves until dropped.
struct TheirLink {
    child: Child,
    link: String,
}

impl TheirLink {
    fn serve(flag: &str, passcode: Option<&str>, expires_in: Option<i64>) -> TheirLink {
        let mut cmd = Command::new("node");
        cmd.arg(script())
            .args(["serve", flag, passcode.unwrap_or("-")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(s) = expires_in {
            cmd.arg(s.to_string());
        }
        let mut child = cmd.spawn().expect("node runs");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("shlink:/"), "{line}");
        TheirLink {
            child,
            link: line.trim().to_string(),
        }
    }
}

impl Drop for TheirLink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `amanat share --shl` through `relay`, with `extra` flags.
fn our_link(v: &amanat_tests::TestVault, relay: &TestRelay, extra: &[&str]) -> Value {
    let mut args = vec![
        "--summary",
        "--relay",
        &relay.url,
        "--shl",
        "--label",
        "Ayesha's summary",
    ];
    args.extend_from_slice(extra);
    let mut a = vec!["share", "--json", "--purpose", "CAREMGT", "--expires", "2h"];
    a.extend_from_slice(&args);
    v.run_env(&a, &[("AMANAT_SHARE_PASSCODE", PHRASE)]).json()
}

fn receive_shl(link: &str, passcode: Option<&str>) -> amanat_tests::Run {
    let env: Vec<(&str, &str)> = passcode
        .map(|p| ("AMANAT_SHARE_PASSCODE", p))
        .into_iter()
        .collect();
    amanat_bare(&["receive", "--recipient", "Dr. Rao", link], &env)
}

#[test]
fn every_flag_combination_round_trips_with_kill_the_clipboard() {
    let relay = TestRelay::start(0);
    let v = wallet_with_records();
    for (flag, extra) in [
        ("", &[][..]),
        ("L", &["--long-term"][..]),
        ("P", &["--passcode"][..]),
        ("LP", &["--long-term", "--passcode"][..]),
        ("U", &["--direct-file"][..]),
        ("LU", &["--long-term", "--direct-file"][..]),
    ] {
        // Amanat makes it; kill-the-clipboard opens it.
        let out = our_link(&v, &relay, extra);
        let link = out["link"].as_str().unwrap();
        let (viewer, shlink) = link.split_once('#').expect("a viewer URL");
        assert_eq!(viewer, format!("{}/", relay.url));
        assert!(shlink.starts_with("shlink:/"), "{link}");
        let passcode = flag.contains('P').then_some(PHRASE);
        let theirs = their_viewer(link, passcode).unwrap_or_else(|e| panic!("flag {flag:?}: {e}"));
        let bundle = &theirs["fhirResources"][0];
        assert_eq!(bundle["resourceType"], "Bundle", "flag {flag:?}");
        assert!(!bundle["entry"].as_array().unwrap().is_empty());
        assert_eq!(bundle["signature"]["sigFormat"], "application/jose");
        // Whom the records are about comes first, for viewers that know nothing of grants.
        assert_eq!(
            bundle["entry"][0]["resource"]["resourceType"], "Patient",
            "flag {flag:?}"
        );
        assert_eq!(
            theirs["manifest"].is_null(),
            flag.contains('U'),
            "flag {flag:?}: {theirs}"
        );
        // And Amanat opens it too, verified against the patient's signature.
        receive_shl(link, passcode).ok_saying("VERIFIED share from");

        // kill-the-clipboard makes one; Amanat opens it, unsigned.
        let their = TheirLink::serve(flag, passcode, None);
        let shown = receive_shl(&their.link, passcode).ok_saying("not signed by a patient wallet");
        assert!(shown.contains("Hemoglobin A1c"), "flag {flag:?}: {shown}");
        assert!(shown.contains("Lab results from another app"), "{shown}");
        // With a viewer's prefix, as a QR code would carry it.
        receive_shl(&format!("https://viewer.example/#{}", their.link), passcode).ok_saying("Hemoglobin A1c");
    }
}

/// The passcode suite on one relay: wrong passcodes counted by the relay
/// (remainingAttempts), the right one opens, ten wrong kill the link, and the
/// access log names each recipient.
fn passcodes_on(relay: &TestRelay) {
    let v = wallet_with_records();
    let out = our_link(&v, relay, &["--passcode"]);
    let link = out["link"].as_str().unwrap().to_string();
    receive_shl(&link, Some("not the passcode at all, sorry"))
        .fails_saying(6, "the passcode is wrong: 9 attempts left");
    let err = their_viewer(&link, Some("still not it")).unwrap_err();
    assert_eq!(err["error"], "SHLInvalidPasscodeError", "{err}");
    receive_shl(&link, Some(PHRASE)).ok_saying("VERIFIED share from");
    // A viewer that wants small manifests gets a location, good for an hour,
    // fetched without counting a second use.
    let theirs = their_viewer_with(&link, Some(PHRASE), Some(100)).unwrap();
    let location = theirs["manifest"]["files"][0]["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        location.starts_with(&format!("{}/v1/shl/", relay.url)),
        "{location}"
    );
    assert_eq!(theirs["fhirResources"][0]["resourceType"], "Bundle");
    let forged = format!("{}x", &location[..location.len() - 1]);
    assert_eq!(
        crate::relay::get(&forged).0,
        401,
        "a ticket changed by one character"
    );
    let log = v.run(&["grants", "--json"]).json();
    let row = &log[0];
    assert_eq!(row["uses"], 2, "{row}");
    // The patient's access log names who opened it, in the recipient's words.
    v.run(&["audit"]).ok_saying("link holder at 127.0.0.1 · Dr. Rao");
    // Eight more wrong (ten in all): the link is dead, even with the right one.
    for left in (1..=7).rev() {
        receive_shl(&link, Some("wrong")).fails_saying(6, &format!("{left} attempts left"));
    }
    receive_shl(&link, Some("wrong")).fails_saying(6, "no longer works: too many wrong passcodes");
    receive_shl(&link, Some(PHRASE)).fails_saying(6, "no longer works: too many wrong passcodes");
    let err = their_viewer(&link, Some(PHRASE)).unwrap_err();
    assert!(err["message"].as_str().unwrap().contains("410"), "{err}");
}

#[test]
fn ten_wrong_passcodes_kill_a_link_on_sled() {
    passcodes_on(&TestRelay::start(0));
}

#[test]
fn ten_wrong_passcodes_kill_a_link_on_redis() {
    passcodes_on(&TestRelay::on(
        Some(&shared_redis().url()),
        &["--rate-limit", "0"],
    ));
}

#[test]
fn expired_revoked_and_used_up_links_are_refused() {
    let relay = TestRelay::start(0);
    let v = wallet_with_records();
    let out = v
        .run(&[
            "share",
            "--json",
            "--purpose",
            "CAREMGT",
            "--expires",
            "5s",
            "--summary",
            "--relay",
            &relay.url,
            "--shl",
        ])
        .json();
    let link = out["link"].as_str().unwrap().to_string();
    // Opened while valid (however slow this machine is), then after its expiry.
    receive_shl(&link, None).ok_saying("VERIFIED share from");
    let expires = std::time::UNIX_EPOCH + std::time::Duration::from_secs(out["expires_at"].as_u64().unwrap());
    if let Ok(left) = expires.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(left + std::time::Duration::from_millis(1200));
    }
    receive_shl(&link, None).fails_saying(6, "this SMART Health Link expired at");
    assert_eq!(their_viewer(&link, None).unwrap_err()["error"], "SHLExpiredError");

    let out = our_link(&v, &relay, &[]);
    let link = out["link"].as_str().unwrap().to_string();
    let id = out["grant_id"].as_str().unwrap();
    v.run(&["grants", "revoke", id]).ok();
    receive_shl(&link, None).fails_saying(6, "the patient revoked this share");
    // A link's grant id is base64url: one in 64 begins with `-`, which must
    // reach the command as an id, not be read as a flag.
    v.run(&["grants", "revoke", "-Sno-such-share"])
        .fails_saying(1, "no share '-Sno-such-share'");

    // A use limit holds for links as for every share: each manifest is a use.
    let out = our_link(&v, &relay, &["--uses", "1"]);
    let link = out["link"].as_str().unwrap().to_string();
    receive_shl(&link, None).ok_saying("VERIFIED share from");
    receive_shl(&link, None).fails_saying(6, "opened as many times as the patient allowed");

    // Someone else's expired link is refused before anything is fetched.
    let their = TheirLink::serve("", None, Some(-60));
    receive_shl(&their.link, None).fails_saying(6, "expired");
}

#[test]
fn a_hostile_link_server_gets_a_clear_refusal_for_each_trick() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let key = b64(&[7; 32]);
    let link_to = |url: &str, key: &str| {
        format!(
            "shlink:/{}",
            b64(format!(r#"{{"url":"{url}","key":"{key}","v":1}}"#).as_bytes())
        )
    };
    // A key of the wrong length never reaches the network.
    receive_shl(&link_to("http://127.0.0.1:9/m", &b64(&[7; 16])), None)
        .fails_saying(6, "key is 16 bytes, not 32");
    // A plain-http manifest elsewhere is refused: the passcode would travel in clear.
    receive_shl(&link_to("http://relay.example/m", &key), None).fails_saying(6, "is not https://");

    let jwe_with = move |header: &str| {
        format!(
            "{}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
            b64(header.as_bytes())
        )
    };
    let big = "A".repeat(50 * 1024 * 1024);
    let server = TestHttpServer::start(move |method, path, _| match (method, path) {
        ("POST", "/not-json") => (200, vec![], b"<html>surprise</html>".to_vec()),
        ("POST", "/wrong-enc") => (
            200,
            vec![],
            format!(
                r#"{{"files":[{{"contentType":"application/fhir+json","embedded":"{}"}}]}}"#,
                jwe_with(r#"{"alg":"dir","enc":"A128GCM"}"#)
            )
            .into_bytes(),
        ),
        ("POST", "/huge-embedded") => (
            200,
            vec![],
            format!(r#"{{"files":[{{"contentType":"application/fhir+json","embedded":"{big}"}}]}}"#)
                .into_bytes(),
        ),
        ("POST", "/redirect") => (
            302,
            vec![(
                "location".into(),
                "http://169.254.169.254/latest/meta-data".into(),
            )],
            vec![],
        ),
        _ => (404, vec![], vec![]),
    });
    let at = |path: &str| link_to(&format!("{}{path}", server.origin), &key);
    receive_shl(&at("/not-json"), None).fails_saying(6, "manifest that is not valid");
    receive_shl(&at("/wrong-enc"), None).fails_saying(
        6,
        "enc 'A128GCM'; SMART Health Links use alg 'dir', enc 'A256GCM'",
    );
    receive_shl(&at("/huge-embedded"), None).fails_saying(6, "more than Amanat opens");
    receive_shl(&at("/redirect"), None).fails_saying(
        6,
        "answered with a redirect to 'http://169.254.169.254/latest/meta-data'",
    );
    receive_shl(&at("/missing"), None).fails_saying(6, "no such link");
    // The redirect was not followed: the server saw one request for it.
    let asked: Vec<_> = server.received().into_iter().map(|r| r.path).collect();
    assert_eq!(asked.iter().filter(|p| *p == "/redirect").count(), 1, "{asked:?}");

    // A 50 MB file at a manifest's location: refused while reading, not after.
    let big_file = TestHttpServer::start(|_, _, _| (200, vec![], vec![b'A'; 50 * 1024 * 1024]));
    let location = format!("{}/file", big_file.origin);
    let manifest = TestHttpServer::start(move |_, _, _| {
        (
            200,
            vec![],
            format!(r#"{{"files":[{{"contentType":"application/fhir+json","location":"{location}"}}]}}"#)
                .into_bytes(),
        )
    });
    receive_shl(&link_to(&format!("{}/m", manifest.origin), &key), None)
        .fails_saying(6, "more than Amanat opens");
}

/// The doctor's phone: the QR code of an Amanat SHL opens in the relay's
/// viewer (handed from `/` to `shl.html`), asks for the passcode (the relay counts wrong ones), and shows
/// the verified records; a link kill-the-clipboard made opens there too, as
/// not signed by a patient wallet. The page fetches nothing that carries the
/// link's key and clears it from the address bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_opens_smart_health_links_in_the_viewer() {
    use amanat_tests::browser::Chrome;
    let relay = TestRelay::start(0);
    let v = amanat_tests::TestVault::new();
    v.run(&["demo", "--records", "60"]).ok();
    let png = v.scratch("shl.png");
    let out = our_link(&v, &relay, &["--passcode", "--qr-png", png.to_str().unwrap()]);
    let url = out["link"].as_str().unwrap().to_string();
    assert_eq!(amanat_tests::read_qr(&std::fs::read(&png).unwrap()), url);
    let key = ShlLink::decode(&url).unwrap().key;

    let phone = Chrome::phone().await;
    phone.client.goto(&url).await.unwrap();
    phone.wait("[data-testid=needs-passcode]").await;
    phone
        .wait("[data-testid=link-recipient]")
        .await
        .send_keys("Dr. Rao, Mayo Hospital")
        .await
        .unwrap();
    let field = phone.wait("[data-testid=receive-passcode]").await;
    field.send_keys("a wrong guess at the code").await.unwrap();
    phone.click("[data-testid=receive-open]").await;
    phone.wait_text("[data-testid=refused]", "9 attempts left").await;
    field.clear().await.unwrap();
    field.send_keys(PHRASE).await.unwrap();
    phone.click("[data-testid=receive-open]").await;
    let text = phone.wait_text("[data-testid=verified]", "Ayesha Siddiqui").await;
    assert!(text.contains("treatment (CAREMGT)"), "{text}");
    assert_eq!(
        phone.overflow_x().await,
        0,
        "no sideways scrolling at phone width"
    );
    phone.shot("viewer-shl-phone").await;
    let fetched: Vec<String> = serde_json::from_value(
        phone
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    use base64::Engine;
    let key_text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*key);
    assert!(
        fetched
            .iter()
            .all(|f| !f.contains(&key_text) && !f.contains("shlink")),
        "{fetched:?}"
    );
    assert!(fetched.iter().any(|f| f.contains("/v1/shl/")), "{fetched:?}");
    // The page at `/` handed the link to the one that opens SHLs, which
    // took it out of the address bar.
    let address = phone.client.current_url().await.unwrap().to_string();
    assert_eq!(
        address,
        format!("{}/shl.html", relay.url),
        "the link left the address bar"
    );
    v.run(&["grants", "--json"]).ok();
    v.run(&["audit"]).ok_saying("· Dr. Rao, Mayo Hospital");

    // Someone else's link, in the same viewer.
    let their = TheirLink::serve("", None, None);
    let text = open(&phone, &format!("{}/#{}", relay.url, their.link), "unsigned").await;
    assert!(text.contains("Hemoglobin A1c"), "{text}");
    assert!(text.contains("Not signed by a patient wallet"), "{text}");

    // A server streaming an endless manifest (no length declared): the phone
    // stops reading at its cap and says so.
    let endless = endless_server();
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let payload = format!(r#"{{"url":"{endless}/m","key":"{key}"}}"#);
    let link = format!(
        "shlink:/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
    );
    let text = open(&phone, &format!("{}/#{link}", relay.url), "refused").await;
    assert!(text.contains("more than Amanat opens"), "{text}");

    // A viewer exported before shl.html existed (or copied without it): the
    // server answers the Amanat-only page for shl.html, which keeps the link
    // and refuses it rather than handing it on in a loop.
    let site = v.scratch("viewer-without-shl");
    amanat_bare(&["viewer", "export", site.to_str().unwrap()], &[]).ok_saying("Wrote the share viewer");
    std::fs::remove_file(site.join("shl.html")).expect("the export has shl.html");
    let old = TestRelay::on(None, &["--viewer", site.to_str().unwrap()]);
    let text = open(&phone, &format!("{}/#{}", old.url, their.link), "refused").await;
    assert!(text.contains("not an Amanat share link"), "{text}");
    let address = phone.client.current_url().await.unwrap().to_string();
    assert!(
        address.starts_with(&format!("{}/shl.html", old.url)),
        "handed over once, then kept: {address}"
    );
    phone.quit().await;
}

/// An HTTP server on 127.0.0.1 that answers any POST with a chunked body
/// that never ends (CORS allowed, preflight answered); its origin.
fn endless_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = [0u8; 4096];
                let n = stream.read(&mut head).unwrap_or(0);
                let cors = "access-control-allow-origin: *\r\naccess-control-allow-headers: content-type\r\naccess-control-allow-methods: POST\r\n";
                if head[..n].starts_with(b"OPTIONS") {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 204 No Content\r\n{cors}content-length: 0\r\n\r\n"
                    );
                    return;
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\n{cors}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                let chunk = vec![b' '; 64 * 1024];
                // Until the reader hangs up (at most 1 GiB).
                for _ in 0..16 * 1024 {
                    if write!(stream, "{:x}\r\n", chunk.len()).is_err()
                        || stream.write_all(&chunk).is_err()
                        || stream.write_all(b"\r\n").is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    origin
}
