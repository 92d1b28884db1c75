//! Helpers for Amanat's end-to-end tests: the real `amanat` binary, run against
//! temporary wallets.

pub mod browser;
pub mod redis;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// The passphrase every test wallet uses.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// The `amanat` binary: `$AMANAT_BIN` when set (scripts/test sets it to the
/// binary `cargo test --workspace` has just built, so the same dependency build
/// serves both), else built once per test run, so tests never run a stale one.
pub fn amanat_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("AMANAT_BIN") {
            let bin = PathBuf::from(bin);
            assert!(bin.exists(), "AMANAT_BIN={} does not exist", bin.display());
            return bin;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "wallet-core", "--bin", "amanat"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the amanat binary failed");
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/all-… → target/<profile>/amanat
        let dir = exe.parent().and_then(Path::parent).expect("target directory");
        let bin = dir.join(format!("amanat{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A script of `tests/js` that uses npm's kill-the-clipboard, copied into
/// target/js where the README's test command installed the library, so that
/// node finds it.
pub fn kill_the_clipboard_script(name: &str) -> PathBuf {
    let js = workspace_root().join("target/js");
    assert!(
        js.join("node_modules/kill-the-clipboard").exists(),
        "npm's kill-the-clipboard is needed: the README test command installs it into target/js"
    );
    let path = js.join(name);
    std::fs::copy(workspace_root().join("tests/js").join(name), &path).expect("the script is copied");
    path
}

/// A fixture file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A command's result, with helpers for assertions.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`-1` if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts this exit code and returns stderr.
    #[track_caller]
    pub fn fails_with(self, code: i32) -> String {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stderr
    }

    /// Asserts success and that stdout says `words`; returns stdout.
    #[track_caller]
    pub fn ok_saying(self, words: &str) -> String {
        let out = self.ok();
        assert!(out.contains(words), "expected {words:?} in:\n{out}");
        out
    }

    /// Asserts this exit code and that stderr says `words`; returns stderr.
    #[track_caller]
    pub fn fails_saying(self, code: i32, words: &str) -> String {
        let err = self.fails_with(code);
        assert!(err.contains(words), "expected {words:?} in:\n{err}");
        err
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"))
    }
}

/// A wallet in a temporary directory, driven through the CLI.
pub struct TestVault {
    _tmp: tempfile::TempDir,
    /// The wallet directory.
    pub dir: PathBuf,
    /// A scratch directory for files the test writes.
    pub scratch: PathBuf,
}

impl TestVault {
    /// A fresh, uninitialised location.
    pub fn empty() -> TestVault {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("vault");
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        TestVault {
            _tmp: tmp,
            dir,
            scratch,
        }
    }

    /// A wallet created with `amanat init` for "Ayesha Siddiqui".
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestVault {
        let v = TestVault::empty();
        v.run(&[
            "init",
            "--name",
            "Ayesha Siddiqui",
            "--cnic",
            "35202-1234567-2",
            "--birth-date",
            "1968-04-12",
        ])
        .ok();
        v
    }

    /// The ids of every record `amanat list` shows with `filter`, newest first.
    #[track_caller]
    pub fn ids(&self, filter: &[&str]) -> Vec<String> {
        let mut args = vec!["list", "--json", "-n", "0"];
        args.extend_from_slice(filter);
        let list = self.run(&args).json();
        let rows = list.as_array().expect("a list");
        rows.iter()
            .map(|r| r["id"].as_str().expect("an id").to_string())
            .collect()
    }

    /// The id of the newest record `amanat list` shows with `filter`.
    #[track_caller]
    pub fn first_id(&self, filter: &[&str]) -> String {
        self.ids(filter).into_iter().next().expect("a record")
    }

    /// An initialised wallet with the fixture `name` imported.
    pub fn with(name: &str) -> TestVault {
        let v = TestVault::new();
        v.run(&["import", fixture(name).to_str().expect("utf-8 path")])
            .ok();
        v
    }

    /// Installs a sample plugin built from `plugins/` (`lab-import.wasm`, …), approved.
    #[track_caller]
    pub fn install_plugin(&self, file: &str) {
        let path = built_plugin(file);
        self.run(&["plugin", "install", "--yes", path.to_str().expect("utf-8 path")])
            .ok_saying("Installed");
    }

    /// `amanat` with this wallet and passphrase in its environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(amanat_bin());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AMANAT_") {
                c.env_remove(k);
            }
        }
        c.env("AMANAT_VAULT", &self.dir)
            .env("AMANAT_PASSPHRASE", PASSPHRASE)
            .env("AMANAT_KDF_WORK_FACTOR", "10")
            .stdin(Stdio::null());
        c
    }

    /// Runs `amanat ARGS…` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().expect("amanat runs").into()
    }

    /// Runs with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd();
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().expect("amanat runs").into()
    }

    /// A path in the scratch directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.scratch.join(name)
    }

    /// Every file under the wallet directory with its bytes.
    pub fn raw_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    let bytes = std::fs::read(&p).expect("read file");
                    out.push((p, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out.sort();
        out
    }

    /// Opens the wallet in this process (holding its lock) through the library.
    /// The wallet's database opened directly, as an attacker with the disk
    /// (or a crash) would see it; flushed after `f`. The wallet must be closed.
    pub fn raw_db<R>(&self, f: impl FnOnce(&sled::Db) -> R) -> R {
        // A wallet this process just closed may hold sled's file lock for a
        // moment longer, while sled's I/O threads let go.
        let started = std::time::Instant::now();
        let db = loop {
            match sled::open(self.dir.join("db")) {
                Ok(db) => break db,
                Err(_) if started.elapsed() < std::time::Duration::from_secs(10) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => panic!("the wallet's database does not open: {e}"),
            }
        };
        let out = f(&db);
        db.flush().expect("flush");
        out
    }

    pub fn open(&self) -> wallet_core::vault::Vault {
        wallet_core::vault::Vault::open(&self.dir, &age::secrecy::SecretString::from(PASSPHRASE))
            .expect("wallet opens")
    }
}

/// Writes JSON to a file.
/// The text of the QR code in a PNG (or any image the `image` crate reads).
pub fn read_qr(png: &[u8]) -> String {
    let img = image::load_from_memory(png).expect("an image").to_luma8();
    let (w, h) = img.dimensions();
    wallet_core::qr::read_greyscale(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32)[0]
    })
    .expect("a readable QR code")
}

pub fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
}

/// Whether a byte string occurs in another.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A relay (`amanat relay`) on a free loopback port, stopped when dropped.
pub struct TestRelay {
    child: std::process::Child,
    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// Its store directory (embedded store; unused for Redis).
    pub store: PathBuf,
    _tmp: tempfile::TempDir,
}

impl TestRelay {
    /// Starts a relay on a fresh embedded store.
    pub fn start(rate_limit: u32) -> TestRelay {
        TestRelay::on(None, &["--rate-limit", &rate_limit.to_string()])
    }

    /// Starts a relay on `store` (a `--store` value; `None`: a fresh embedded
    /// store) with extra arguments; waits for the line saying where it listens.
    pub fn on(store: Option<&str>, args: &[&str]) -> TestRelay {
        use std::io::BufRead;
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("relay");
        let spec = store.map_or_else(|| dir.to_string_lossy().into_owned(), str::to_string);
        let mut child = Command::new(amanat_bin())
            .args(["relay", "--bind", "127.0.0.1:0", "--store", &spec])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("relay starts");
        let stdout = child.stdout.take().expect("relay stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("relay reports its address");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in relay output: {line}"))
            .to_string();
        TestRelay {
            child,
            url,
            store: dir,
            _tmp: tmp,
        }
    }

    /// Kills the relay with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `amanat` with only the given environment (no wallet): the doctor's side.
pub fn amanat_bare(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(amanat_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AMANAT_") {
            c.env_remove(k);
        }
    }
    // No provider identity or wallet lying around in the real home directory.
    c.env("AMANAT_KDF_WORK_FACTOR", "10")
        .env("XDG_DATA_HOME", std::env::temp_dir().join("amanat-tests-no-home"))
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().expect("amanat runs").into()
}

/// A request a [`TestHttpServer`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body.
    pub body: Vec<u8>,
}

/// An HTTP server (axum) on a free loopback port, for an insurer or a
/// pharmacy endpoint in tests. Each request is answered by `handler`
/// (method, path with query, body) → (status, headers, body); requests are
/// recorded. Dropping it shuts the server down.
pub struct TestHttpServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

type Handler = dyn Fn(&str, &str, &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync;

impl TestHttpServer {
    /// Starts the server.
    pub fn start(
        handler: impl Fn(&str, &str, &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync + 'static,
    ) -> TestHttpServer {
        use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
        use axum::response::{IntoResponse, Response};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let record = received.clone();
        let answer = move |request: Request<axum::body::Body>| {
            let (handler, record) = (handler.clone(), record.clone());
            async move {
                let method = request.method().to_string();
                let path = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                let body = axum::body::to_bytes(request.into_body(), 64 << 20)
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let (status, headers, reply) = handler(&method, &path, &body);
                record.lock().expect("lock").push(Received { method, path, body });
                let mut response: Response = reply.into_response();
                *response.status_mut() = StatusCode::from_u16(status).expect("a status code");
                for (k, v) in headers {
                    if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                        response.headers_mut().insert(k, v);
                    }
                }
                response
            }
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(answer);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        TestHttpServer {
            origin,
            received,
            stop: Some(stop),
        }
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A built plugin from `target/plugins` (made by `scripts/build-plugins`, which
/// the README test command runs first).
pub fn built_plugin(name: &str) -> PathBuf {
    let path = workspace_root().join("target/plugins").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins (the README test command does)",
        path.display()
    );
    path
}

/// `amanat plugin run PLUGIN ACTION --yes`, with `input` (if any) as its
/// input file and `extra` arguments.
pub fn run_action(v: &TestVault, plugin: &str, action: &str, input: Option<&str>, extra: &[&str]) -> Run {
    let mut args = vec!["plugin", "run", plugin, action, "--yes"];
    let file = v.scratch(&format!("{plugin}-{action}.txt"));
    if let Some(text) = input {
        std::fs::write(&file, text).expect("input file");
        args.push("--input");
        args.push(file.to_str().expect("utf-8 path"));
    }
    args.extend_from_slice(extra);
    v.run(&args)
}

/// Signs a plugin build with the development publisher key and a manifest.
pub fn sign_plugin(wasm: &Path, manifest: &serde_json::Value, out: &Path) {
    try_sign_plugin(wasm, manifest, out).ok();
}

/// Runs `amanat plugin sign` with the development publisher key, whatever comes of it.
pub fn try_sign_plugin(wasm: &Path, manifest: &serde_json::Value, out: &Path) -> Run {
    let manifest_path = out.with_extension("manifest.json");
    write_json(&manifest_path, manifest);
    let key = built_plugin("publisher.key");
    Command::new(amanat_bin())
        .args(["plugin", "sign"])
        .arg(wasm)
        .arg("--key")
        .arg(&key)
        .arg("--manifest")
        .arg(&manifest_path)
        .arg("--out")
        .arg(out)
        .env(
            "AMANAT_PUBLISHER_PASSPHRASE",
            std::env::var("AMANAT_PUBLISHER_PASSPHRASE")
                .unwrap_or_else(|_| "amanat development publisher".into()),
        )
        .output()
        .expect("amanat runs")
        .into()
}

const DOCTOR_PASSPHRASE: (&str, &str) = ("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase");

/// `amanat provider init` of `name` and `registration` into `identity`.
fn provider_init(identity: &Path, name: &str, registration: &str) {
    let path = identity.to_str().expect("utf-8 path");
    amanat_bare(
        &[
            "provider",
            "init",
            "--name",
            name,
            "--registration",
            registration,
            "--identity",
            path,
        ],
        &[DOCTOR_PASSPHRASE],
    )
    .ok();
}

/// A second identity claiming `name` and `registration` (someone else's key
/// in that doctor's name), at `impostor.age` in `v`'s scratch directory.
pub fn impostor(v: &TestVault, name: &str, registration: &str) -> PathBuf {
    let identity = v.scratch("impostor.age");
    provider_init(&identity, name, registration);
    identity
}

/// A provider identity made with `amanat provider init` in `v`'s scratch
/// directory (passphrase "doctor passphrase"): its file and its card text.
pub fn provider(v: &TestVault, name: &str, registration: &str) -> (PathBuf, String) {
    let identity = v.scratch(&format!("{registration}.age"));
    provider_init(&identity, name, registration);
    let path = identity.to_str().expect("utf-8 path");
    let card = amanat_bare(&["provider", "card", "--identity", path], &[DOCTOR_PASSPHRASE]).ok();
    let text = card
        .lines()
        .find(|l| l.starts_with("AMANAT-CARD:"))
        .expect("a card")
        .to_string();
    (identity, text)
}

/// `amanat registry trust SNAPSHOT --key KEY` in `v`.
pub fn trust_registry(v: &TestVault, snapshot: &Path, key: &str) -> Run {
    v.run(&[
        "registry",
        "trust",
        snapshot.to_str().expect("utf-8 path"),
        "--key",
        key,
    ])
}

/// A registry ("Pakistan Medical & Dental Council", key in `v`'s scratch
/// directory) and its signed snapshot listing `cards`: (thumbprint, snapshot file).
pub fn signed_registry(v: &TestVault, cards: &[&str]) -> (String, PathBuf) {
    let env = [("AMANAT_REGISTRY_PASSPHRASE", "registry passphrase")];
    let key = v.scratch("pmdc.key");
    let key = key.to_str().expect("utf-8 path");
    let created = amanat_bare(
        &[
            "registry",
            "create",
            "--name",
            "Pakistan Medical & Dental Council",
            "--key",
            key,
        ],
        &env,
    )
    .ok();
    let thumbprint = created.lines().last().expect("a thumbprint").trim().to_string();
    let snapshot = v.scratch("pmdc.json");
    let mut args = vec![
        "registry",
        "sign",
        "--key",
        key,
        "--out",
        snapshot.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(cards);
    amanat_bare(&args, &env).ok();
    (thumbprint, snapshot)
}
