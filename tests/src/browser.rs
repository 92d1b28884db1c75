//! A real headless Chromium driven over WebDriver, and `amanat serve` to point it at.

use std::io::BufRead;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::{amanat_bin, workspace_root};

/// `amanat serve` on a free loopback port, stopped when dropped.
pub struct WalletServer {
    child: Child,
    /// The address it printed, with its one-time login code (for a browser).
    pub url: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The session token, traded for a second login code (for API calls).
    pub token: String,
    /// Its standard input: a line asks for a new login link.
    input: std::process::ChildStdin,
    /// Its standard output, after the lines read so far.
    output: std::io::BufReader<std::process::ChildStdout>,
    /// The wallet directory.
    pub vault: PathBuf,
    _tmp: tempfile::TempDir,
}

impl WalletServer {
    /// Starts a server on a fresh (not yet created) wallet.
    pub fn start(env: &[(&str, &str)]) -> WalletServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let vault = tmp.path().join("vault");
        WalletServer::start_at(amanat_bin(), &vault, env, tmp)
    }

    /// Starts a server on the wallet at `vault` (created or not).
    pub fn on(vault: &std::path::Path, env: &[(&str, &str)]) -> WalletServer {
        WalletServer::start_at(amanat_bin(), vault, env, tempfile::tempdir().expect("temp dir"))
    }

    /// Starts `bin serve` (e.g. a release build, for benchmarks) on the wallet at `vault`.
    pub fn with_binary(bin: &std::path::Path, vault: &std::path::Path, env: &[(&str, &str)]) -> WalletServer {
        WalletServer::start_at(bin, vault, env, tempfile::tempdir().expect("temp dir"))
    }

    fn start_at(
        bin: &std::path::Path,
        vault: &std::path::Path,
        env: &[(&str, &str)],
        tmp: tempfile::TempDir,
    ) -> WalletServer {
        let web = workspace_root().join("target/web");
        assert!(
            web.join("index.html").exists(),
            "the web wallet is not built at {}: run `trunk build` (the README test command does)",
            web.display()
        );
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AMANAT_") {
                cmd.env_remove(k);
            }
        }
        cmd.args(["serve", "--port", "0", "--no-open"])
            .env("AMANAT_VAULT", vault)
            .env("AMANAT_WEB_DIR", &web)
            .env("AMANAT_KDF_WORK_FACTOR", "10")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("amanat serve starts");
        let input = child.stdin.take().expect("stdin");
        let mut output = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        output.read_line(&mut line).expect("serve prints its address");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("an address")
            .to_string();
        let base = url.split("/?").next().unwrap_or(&url).to_string();
        let mut server = WalletServer {
            child,
            url,
            base,
            token: String::new(),
            input,
            output,
            vault: vault.to_path_buf(),
            _tmp: tmp,
        };
        let code = server.new_login_code();
        let (status, body) = server.sign_in(&code);
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        server.token = answer["token"].as_str().expect("a token").to_string();
        server
    }

    /// Asks the server for a new login link (a line on its input, as the
    /// patient presses Enter) and returns its code.
    pub fn new_login_code(&mut self) -> String {
        use std::io::Write;
        writeln!(self.input).expect("serve reads its input");
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.output.read_line(&mut line).expect("read") > 0,
                "serve closed its output"
            );
            if let Some(url) = line.trim().strip_prefix("Sign in at ") {
                return url.split("login=").nth(1).expect("a code").to_string();
            }
        }
    }

    /// A fresh sign-in address for a new page load (a reload forgets the session).
    pub fn login_url(&mut self) -> String {
        let code = self.new_login_code();
        format!("{}/?login={code}", self.base)
    }

    /// `POST /api/session` with a login code: (status, body).
    pub fn sign_in(&self, code: &str) -> (u16, String) {
        let host = self.base.trim_start_matches("http://");
        let body = serde_json::json!({ "code": code }).to_string();
        let (status, _, body) = request(&self.base, "POST", "/api/session", host, None, Some(&body));
        (status, body)
    }
}

impl Drop for WalletServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with chromedriver, closed when dropped.
pub struct Chrome {
    driver: Child,
    /// The WebDriver client.
    pub client: Client,
    /// Where downloads land.
    pub downloads: PathBuf,
    _profile: tempfile::TempDir,
}

/// chromedriver's mobile emulation of a phone: 390×844 CSS pixels at 3×.
fn phone_emulation() -> serde_json::Value {
    serde_json::json!({
        "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0, "touch": true },
        "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
    })
}

/// Chromium's flags for a fake camera filming `y4m`, allowed without asking.
fn camera(y4m: &std::path::Path) -> Vec<String> {
    vec![
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-video-capture={}", y4m.display()),
    ]
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Chrome {
    /// Starts chromedriver and a browser session.
    pub async fn start() -> Chrome {
        Chrome::start_with(&[], None).await
    }

    /// A phone: 390×844 CSS pixels at 3× density, touch, a mobile Chrome's
    /// user agent (chromedriver's mobile emulation), as a doctor's phone
    /// opening the address its camera read.
    pub async fn phone() -> Chrome {
        Chrome::start_with(&[], Some(phone_emulation())).await
    }

    /// A browser whose camera films `y4m` (see [`write_y4m`]), as a doctor's
    /// phone pointed at the patient's screen.
    pub async fn with_camera(y4m: &std::path::Path) -> Chrome {
        Chrome::start_with(&camera(y4m), None).await
    }

    /// A phone ([`Chrome::phone`]) whose camera films `y4m`: a patient's
    /// phone pointed at the QR code a doctor shows.
    pub async fn phone_with_camera(y4m: &std::path::Path) -> Chrome {
        Chrome::start_with(&camera(y4m), Some(phone_emulation())).await
    }

    async fn start_with(extra: &[String], mobile: Option<serde_json::Value>) -> Chrome {
        let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromedriver is needed (apt-get install chromium chromium-driver); the README test command installs it");
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        // Wait for chromedriver to accept connections (polling a condition, not sleeping blind).
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend_from_slice(extra);
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": { "download.default_directory": downloads, "download.prompt_for_download": false }
            }
        });
        let mut caps = caps.as_object().cloned().expect("capabilities");
        if let Some(emulation) = mobile {
            caps["goog:chromeOptions"]["mobileEmulation"] = emulation;
        }
        let client = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Chrome {
            driver,
            client,
            downloads,
            _profile: profile,
        }
    }

    /// Runs a Chrome DevTools Protocol command (`Network.emulateNetworkConditions`,
    /// `Emulation.setCPUThrottlingRate`, …) through chromedriver; its result.
    pub async fn cdp(&self, cmd: &'static str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// Waits (up to 30 s) for an element.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits for an element and clicks it.
    pub async fn click(&self, css: &str) {
        self.wait(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("could not click {css}: {e}"));
    }

    /// Waits until an element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait_until(css, needle, |t| t.contains(needle)).await
    }

    async fn wait_until(&self, css: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
                && done(&t)
            {
                return t;
            }
            if Instant::now() >= deadline {
                self.shot("failure").await;
                let body = self.client.find(Locator::Css("body")).await.ok();
                let text = match body {
                    Some(b) => b.text().await.unwrap_or_default(),
                    None => String::new(),
                };
                panic!(
                    "{what} never appeared in {css} (screenshot target/screenshots/failure.png); the page says:\n{text}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot of the page under `target/screenshots/NAME.png`.
    pub async fn shot(&self, name: &str) {
        let dir = workspace_root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Form controls a screen reader could not name (no label, no
    /// `aria-label`, no text): `outerHTML` excerpts, empty when all are labelled.
    pub async fn unlabelled_controls(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                "return [...document.querySelectorAll('input, select, textarea, button')]
                   .filter(e => e.type !== 'hidden'
                     && !(e.labels && e.labels.length)
                     && !e.getAttribute('aria-label')
                     && !(e.tagName === 'BUTTON' && e.textContent.trim()))
                   .map(e => e.outerHTML.slice(0, 120))",
                vec![],
            )
            .await
            .expect("script runs");
        serde_json::from_value(found).unwrap_or_default()
    }

    /// How far the page is wider than the window, px (0: no sideways scrolling).
    pub async fn overflow_x(&self) -> i64 {
        let v = self
            .client
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth",
                vec![],
            )
            .await
            .expect("script runs");
        v.as_i64().unwrap_or(i64::MAX)
    }

    /// Types `text` into the element `css` names, once it is there.
    pub async fn type_in(&self, css: &str, text: &str) {
        self.wait(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Waits (up to 30 s) for a finished download named `name`; returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.join(name);
        let partial = self.downloads.join(format!("{name}.crdownload"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Chromium writes `NAME.crdownload` and renames it over NAME when
            // done, but NAME can exist empty before that (a test once read an
            // empty PDF): an empty NAME, or one beside a `.crdownload`, is not
            // the download yet.
            if let Ok(bytes) = std::fs::read(&path)
                && !bytes.is_empty()
                && !partial.exists()
            {
                return bytes;
            }
            assert!(
                Instant::now() < deadline,
                "{name} was never downloaded into {}",
                self.downloads.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session.
    pub async fn quit(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// chromedriver's way to the DevTools protocol: `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A raw HTTP/1.1 request to the server (to test the guards with exact headers):
/// returns (status, headers, body).
pub fn raw_request(
    base: &str,
    method: &str,
    path: &str,
    host: &str,
    token: Option<&str>,
) -> (u16, String, String) {
    request(base, method, path, host, token, None)
}

/// A POST of `json` to the local API, with the token.
pub fn raw_post(base: &str, path: &str, host: &str, token: &str, json: &str) -> (u16, String, String) {
    request(base, "POST", path, host, Some(token), Some(json))
}

fn request(
    base: &str,
    method: &str,
    path: &str,
    host: &str,
    token: Option<&str>,
    json: Option<&str>,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = json.unwrap_or_default();
    let kind = if json.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}{kind}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

/// Writes a still picture as a one-frame Y4M video (640×480, greyscale 4:2:0),
/// the format Chromium's fake camera plays: the PNG centred on white, scaled
/// down to fit if needed.
pub fn write_y4m(png: &[u8], path: &std::path::Path) {
    const W: u32 = 640;
    const H: u32 = 480;
    let img = image::load_from_memory(png).expect("a PNG").to_luma8();
    let fit = 440;
    let img = if img.width() > fit || img.height() > fit {
        let scale = f64::from(fit) / f64::from(img.width().max(img.height()));
        let (w, h) = (
            (f64::from(img.width()) * scale) as u32,
            (f64::from(img.height()) * scale) as u32,
        );
        image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let (x0, y0) = ((W - img.width()) / 2, (H - img.height()) / 2);
    let mut y_plane = vec![255u8; (W * H) as usize];
    for (x, y, p) in img.enumerate_pixels() {
        y_plane[((y + y0) * W + x + x0) as usize] = p[0];
    }
    let mut out = format!("YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\nFRAME\n").into_bytes();
    out.extend_from_slice(&y_plane);
    out.extend(std::iter::repeat_n(128u8, (W * H / 2) as usize));
    std::fs::write(path, out).expect("write y4m");
}
