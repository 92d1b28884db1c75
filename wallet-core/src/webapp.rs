//! A built web app (Trunk's output: `index.html`, hashed JS, wasm and CSS)
//! served with the Content-Security-Policy that fits it: the web wallet by
//! `amanat serve`, the share viewer by `amanat relay`.
//!
//! The files come from the binary itself ([`WEB`] and [`VIEWER`], embedded at
//! build time by `build.rs` when Trunk had built them) or from a directory
//! (`--web DIR`, or found beside the binary).
//!
//! Trunk's loader is an inline module script; the policy allows exactly it, by
//! hash, and nothing else inline. Files whose names carry Trunk's content hash
//! are cached for a year; the page itself is checked again on every visit, so
//! a new build is picked up at once.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/web_apps.rs"));

/// Where an app's files are.
#[derive(Debug, Clone)]
pub enum Files {
    /// In the binary: (name, bytes).
    Embedded(&'static [(&'static str, &'static [u8])]),
    /// In a directory.
    Dir(PathBuf),
}

impl Files {
    /// `dir` when given; else the app embedded in the binary, if it was built
    /// in; else the app found on disk by [`find`] (`var`, `name`).
    pub fn choose(
        dir: Option<PathBuf>,
        embedded: &'static [(&'static str, &'static [u8])],
        var: &str,
        name: &str,
    ) -> Option<Files> {
        match dir {
            Some(d) => Some(Files::Dir(d)),
            None if !embedded.is_empty() => Some(Files::Embedded(embedded)),
            None => find(var, name).map(Files::Dir),
        }
    }

    /// A file name and nothing else: Trunk writes its files side by side.
    fn plain(name: &str) -> bool {
        !name.is_empty() && !name.contains(['/', '\\']) && !name.contains("..")
    }

    /// The bytes of the file `name` (no paths); an embedded file without a
    /// copy.
    pub fn read(&self, name: &str) -> Option<Bytes> {
        if !Files::plain(name) {
            return None;
        }
        match self {
            Files::Embedded(files) => files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| Bytes::from_static(b)),
            Files::Dir(dir) => std::fs::read(dir.join(name)).ok().map(Bytes::from),
        }
    }

    /// The names of its files. In a directory, only plain files whose names
    /// are UTF-8: no address names anything else, so it is not the app's.
    fn names(&self) -> std::io::Result<Vec<String>> {
        match self {
            Files::Embedded(files) => Ok(files.iter().map(|(n, _)| n.to_string()).collect()),
            Files::Dir(dir) => {
                let mut out = Vec::new();
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    if entry.file_type()?.is_file()
                        && let Ok(name) = entry.file_name().into_string()
                    {
                        out.push(name);
                    }
                }
                Ok(out)
            }
        }
    }

    /// Every file (name, bytes), for `amanat viewer export`; a file that
    /// cannot be read is named, with the reason.
    pub fn all(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        match self {
            Files::Embedded(files) => Ok(files.iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect()),
            Files::Dir(dir) => self
                .names()?
                .into_iter()
                .map(|name| {
                    let bytes = std::fs::read(dir.join(&name))
                        .map_err(|e| std::io::Error::new(e.kind(), format!("{name} cannot be read: {e}")))?;
                    Ok((name, bytes))
                })
                .collect(),
        }
    }

    /// Where they are, for people.
    pub fn describe(&self) -> String {
        match self {
            Files::Embedded(_) => "built into this binary".into(),
            Files::Dir(dir) => dir.display().to_string(),
        }
    }
}

/// A web app's files and the policy that goes with them.
pub struct WebApp {
    files: Option<Files>,
    index: String,
    csp: String,
    /// Whether to send compressed bodies ([`WebApp::compressed`]).
    compress: bool,
    /// Compressed bodies by (file, encoding).
    packed: Packed,
}

/// Compressed bodies by (file, encoding), shared with the thread that makes
/// the brotli ones.
type Packed = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, Encoding), Bytes>>>;

/// Worth compressing: text and wasm, past a kilobyte.
fn compressible(name: &str, len: usize) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    len > 1024
        && matches!(
            ext,
            "js" | "wasm" | "css" | "html" | "json" | "svg" | "webmanifest"
        )
}

/// A `Content-Encoding` the apps are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Those a request's `Accept-Encoding` allows (not those it gives `q=0`).
    fn accepted(header: Option<&str>) -> Vec<Encoding> {
        header
            .unwrap_or_default()
            .split(',')
            .filter(|e| !e.contains("q=0") || e.contains("q=0."))
            .filter_map(|e| match e.split(';').next().unwrap_or_default().trim() {
                "br" => Some(Encoding::Brotli),
                "gzip" => Some(Encoding::Gzip),
                _ => None,
            })
            .collect()
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    fn encode(self, bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        match self {
            Encoding::Brotli => {
                let mut out = Vec::with_capacity(bytes.len() / 3);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
                    let _ = w.write_all(bytes);
                }
                out
            }
            Encoding::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let _ = gz.write_all(bytes);
                gz.finish().unwrap_or_default()
            }
        }
    }
}

impl WebApp {
    /// The app in `files` (`None`, or files without `index.html`: every page
    /// is `not_built`, which says how to build it).
    pub fn load(files: Option<Files>, not_built: &str) -> WebApp {
        let found = files
            .as_ref()
            .and_then(|f| f.read("index.html"))
            .and_then(|b| String::from_utf8(b.to_vec()).ok());
        let files = files.filter(|_| found.is_some());
        let index = found.unwrap_or_else(|| not_built.to_string());
        let mut hashes = String::new();
        inline_script_hashes(&index, &mut hashes);
        // The app's other pages: the share viewer has a second one (shl.html)
        // with a loader of its own.
        if let Some(f) = &files {
            for name in f.names().unwrap_or_default() {
                if name.ends_with(".html")
                    && name != "index.html"
                    && let Some(page) = f.read(&name).and_then(|b| String::from_utf8(b.to_vec()).ok())
                {
                    inline_script_hashes(&page, &mut hashes);
                }
            }
        }
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; media-src 'self' blob:; frame-src blob:; object-src 'none'; \
             connect-src 'self' https: http://127.0.0.1:* http://localhost:*; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        WebApp {
            files,
            index,
            csp,
            compress: false,
            packed: Default::default(),
        }
    }

    /// The same app sent compressed to browsers that accept it, for a phone on
    /// a slow network: brotli at its densest (the viewer's wasm: 340 KB against
    /// 425 KB gzipped), made once on a thread of its own since it takes a
    /// second or two; until it is ready, gzip, made on the first request.
    pub fn compressed(mut self) -> WebApp {
        self.compress = true;
        let (files, packed) = (self.files.clone(), self.packed.clone());
        if let Some(all) = files.and_then(|f| f.all().ok()) {
            std::thread::spawn(move || {
                for (name, bytes) in all {
                    if compressible(&name, bytes.len()) {
                        let body = Bytes::from(Encoding::Brotli.encode(&bytes));
                        if let Ok(mut cache) = packed.lock() {
                            cache.insert((name, Encoding::Brotli), body);
                        }
                    }
                }
            });
        }
        self
    }

    /// Whether the app's files were found (else every page says it was not built).
    pub fn is_built(&self) -> bool {
        self.files.is_some()
    }

    /// Adds what every answer of a page that may hold secrets needs: the
    /// policy, no sniffing, no referrer, no framing, its own browsing context.
    pub fn guard(&self, headers: &mut HeaderMap) {
        if let Ok(csp) = HeaderValue::from_str(&self.csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
    }

    /// The file `name` as the browser accepts it (`accept_encoding`): brotli
    /// once it is made, else gzip (made now, on a blocking thread, and kept).
    async fn packed(
        &self,
        name: &str,
        accept_encoding: Option<&str>,
        bytes: &[u8],
    ) -> Option<(Encoding, Bytes)> {
        let accepted = Encoding::accepted(accept_encoding);
        let cached = |e: Encoding| {
            self.packed
                .lock()
                .ok()
                .and_then(|c| c.get(&(name.to_string(), e)).cloned())
        };
        if accepted.contains(&Encoding::Brotli)
            && let Some(body) = cached(Encoding::Brotli)
        {
            return Some((Encoding::Brotli, body));
        }
        if !accepted.contains(&Encoding::Gzip) {
            return None;
        }
        if let Some(body) = cached(Encoding::Gzip) {
            return Some((Encoding::Gzip, body));
        }
        let bytes = bytes.to_vec();
        let body = Bytes::from(
            tokio::task::spawn_blocking(move || Encoding::Gzip.encode(&bytes))
                .await
                .ok()?,
        );
        if let Ok(mut cache) = self.packed.lock() {
            cache.insert((name.to_string(), Encoding::Gzip), body.clone());
        }
        Some((Encoding::Gzip, body))
    }

    /// The Content-Security-Policy for its pages.
    #[cfg(test)]
    fn csp(&self) -> &str {
        &self.csp
    }

    /// The file a request's `path` names, or the app's page for anything
    /// else (the app routes in the browser); compressed when the request's
    /// `Accept-Encoding` (in `headers`) allows and the file is text or wasm.
    pub async fn respond(&self, path: &str, headers: &HeaderMap) -> Response {
        let path = path.trim_start_matches('/');
        let accept_encoding = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
        let bytes = match &self.files {
            _ if path == "index.html" => None,
            // Off the async threads: a directory is read from disk.
            Some(Files::Dir(dir)) if Files::plain(path) => {
                tokio::fs::read(dir.join(path)).await.ok().map(Bytes::from)
            }
            Some(files) => files.read(path),
            None => None,
        };
        if let Some(bytes) = bytes {
            let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            let compressible = self.compress && compressible(path, bytes.len());
            let packed = match compressible {
                true => self.packed(path, accept_encoding, &bytes).await,
                false => None,
            };
            let (body, encoding) = match packed {
                Some((e, body)) => (body, Some(e)),
                None => (bytes, None),
            };
            let mut response = ([(header::CONTENT_TYPE, mime(ext))], Body::from(body)).into_response();
            if let Some(e) = encoding {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(e.name()));
            }
            if compressible {
                response
                    .headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(if is_hashed(path) {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                }),
            );
            return response;
        }
        let mut response = (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.index.clone(),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Appends `'sha256-…'` for each inline script of `page` (those without `src`).
fn inline_script_hashes(page: &str, out: &mut String) {
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = &after[open_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            let digest = Sha256::digest(&body_start.as_bytes()[..close]);
            out.push_str(&format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_start[close..];
    }
}

fn mime(ext: &str) -> &'static str {
    match ext {
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Trunk names built files `NAME-<hash>.EXT` (and `…_bg.wasm`), the hash a
/// 64-bit number in hex without leading zeros.
fn is_hashed(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem).trim_end_matches("_bg");
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| (12..=16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Finds a built app: `$VAR`, then `NAME/` next to the binary or one level up
/// (`target/release/amanat` → `target/NAME`), then `target/NAME` here.
pub fn find(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    let bin_dir = exe.parent()?;
    [
        bin_dir.join(name),
        bin_dir.parent()?.join(name),
        PathBuf::from("target").join(name),
    ]
    .into_iter()
    .find(|d| d.join("index.html").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(accept_encoding: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept_encoding {
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn trunk_names_are_cached_and_pages_are_not() {
        assert!(is_hashed("viewer-3751367feddcec9e_bg.wasm"));
        assert!(is_hashed("wallet-web-e3107fa2bf60a5c0.js"));
        assert!(is_hashed("style-cf1d05754a7c5c5e.css"));
        assert!(is_hashed("style-bee7a436e041c5e.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("manifest.webmanifest"));
        assert!(!is_hashed("sw.js"));
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_loader() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<script type=\"module\">init()</script><script src=\"x.js\"></script>",
        )
        .unwrap();
        let app = WebApp::load(Some(Files::Dir(dir.path().to_path_buf())), "not built");
        let digest = |script: &[u8]| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        assert!(
            app.csp().contains(&format!("'sha256-{}'", digest(b"init()"))),
            "{}",
            app.csp()
        );
        assert_eq!(app.csp().matches("'sha256-").count(), 1);
        // A second page (the viewer's shl.html) has its loader allowed too;
        // a file that is not a page adds nothing.
        std::fs::write(
            dir.path().join("shl.html"),
            "<script type=\"module\">other()</script>",
        )
        .unwrap();
        std::fs::write(dir.path().join("x.js"), "<script>not a page</script>").unwrap();
        let app = WebApp::load(Some(Files::Dir(dir.path().to_path_buf())), "not built");
        for script in [&b"init()"[..], b"other()"] {
            assert!(
                app.csp().contains(&format!("'sha256-{}'", digest(script))),
                "{}",
                app.csp()
            );
        }
        assert_eq!(app.csp().matches("'sha256-").count(), 2);
        assert!(app.is_built());
        assert!(!WebApp::load(None, "not built").is_built());
        assert!(!WebApp::load(Some(Files::Embedded(&[])), "not built").is_built());
    }

    #[test]
    fn embedded_files_are_served_and_nothing_else() {
        static FILES: &[(&str, &[u8])] = &[("index.html", b"<p>app"), ("app-0123456789abcdef.js", b"js")];
        let app = WebApp::load(Some(Files::Embedded(FILES)), "not built");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let body = |path: &str| {
            rt.block_on(async {
                let r = app.respond(path, &accepting(Some("gzip, br"))).await;
                let cache = r.headers()[header::CACHE_CONTROL].to_str().unwrap().to_string();
                let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
                (String::from_utf8(bytes.to_vec()).unwrap(), cache)
            })
        };
        assert_eq!(
            body("/app-0123456789abcdef.js"),
            ("js".into(), "public, max-age=31536000, immutable".into())
        );
        for page in ["/", "/anything", "/../index.html", "/index.html"] {
            assert_eq!(body(page), ("<p>app".into(), "no-cache".into()), "{page}");
        }
        assert!(
            Files::Embedded(FILES)
                .read("../app-0123456789abcdef.js")
                .is_none()
        );
    }

    #[test]
    fn a_directory_gives_its_plain_files_and_nothing_else() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>app").unwrap();
        std::fs::write(dir.path().join("app-0123456789abcdef.js"), "js").unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/inner.js"), "inner").unwrap();
        // A name that is not UTF-8: no address can ask for it.
        let odd = std::ffi::OsStr::from_bytes(b"stray-\xff.js");
        std::fs::write(dir.path().join(odd), "odd").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link.txt")).unwrap();
        let mut all = Files::Dir(dir.path().to_path_buf()).all().unwrap();
        all.sort();
        assert_eq!(
            all,
            vec![
                ("app-0123456789abcdef.js".to_string(), b"js".to_vec()),
                ("index.html".to_string(), b"<p>app".to_vec()),
            ]
        );
    }

    #[test]
    fn big_files_go_compressed_as_the_browser_accepts() {
        use std::io::Read;
        static WASM: [u8; 40_000] = [7; 40_000];
        static FILES: &[(&str, &[u8])] =
            &[("index.html", b"<p>app"), ("app-0123456789abcdef_bg.wasm", &WASM)];
        const WASM_PATH: &str = "/app-0123456789abcdef_bg.wasm";
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let get = |app: &WebApp, accept: Option<&str>| {
            rt.block_on(async {
                let r = app.respond(WASM_PATH, &accepting(accept)).await;
                let encoding = r
                    .headers()
                    .get(header::CONTENT_ENCODING)
                    .map(|v| v.to_str().unwrap().to_string());
                let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
                (encoding, bytes.to_vec())
            })
        };
        // The local wallet's server sends nothing compressed (it is on loopback).
        let plain = WebApp::load(Some(Files::Embedded(FILES)), "not built");
        assert_eq!(get(&plain, Some("br, gzip")).0, None);
        let app = WebApp::load(Some(Files::Embedded(FILES)), "not built").compressed();
        let (none, whole) = get(&app, None);
        assert_eq!((none, whole.len()), (None, WASM.len()));
        let (gz, packed) = get(&app, Some("gzip, deflate"));
        assert_eq!(gz.as_deref(), Some("gzip"));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, WASM);
        // Brotli is made in the background; then it is preferred.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (br, packed) = loop {
            let got = get(&app, Some("gzip, deflate, br, zstd"));
            if got.0.as_deref() == Some("br") || std::time::Instant::now() > deadline {
                break got;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(br.as_deref(), Some("br"));
        assert!(packed.len() < 100, "{}", packed.len());
        let mut back = Vec::new();
        brotli_decompressor::Decompressor::new(&packed[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, WASM);
        assert_eq!(get(&app, Some("br;q=0, gzip")).0.as_deref(), Some("gzip"));
    }
}
