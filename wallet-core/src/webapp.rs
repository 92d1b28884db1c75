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

    /// The bytes of the file `name` (no paths).
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        if !Files::plain(name) {
            return None;
        }
        match self {
            Files::Embedded(files) => files.iter().find(|(n, _)| *n == name).map(|(_, b)| b.to_vec()),
            Files::Dir(dir) => std::fs::read(dir.join(name)).ok(),
        }
    }

    /// Every file (name, bytes), for `amanat viewer export`.
    pub fn all(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        match self {
            Files::Embedded(files) => Ok(files.iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect()),
            Files::Dir(dir) => {
                let mut out = Vec::new();
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    if entry.file_type()?.is_file() {
                        out.push((
                            entry.file_name().to_string_lossy().into_owned(),
                            std::fs::read(entry.path())?,
                        ));
                    }
                }
                Ok(out)
            }
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

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// A web app's files and the policy that goes with them.
pub struct WebApp {
    files: Option<Files>,
    index: String,
    csp: String,
}

impl WebApp {
    /// The app in `files` (`None`, or files without `index.html`: every page
    /// is `not_built`, which says how to build it).
    pub fn load(files: Option<Files>, not_built: &str) -> WebApp {
        let found = files
            .as_ref()
            .and_then(|f| f.read("index.html"))
            .and_then(|b| String::from_utf8(b).ok());
        let files = files.filter(|_| found.is_some());
        let index = found.unwrap_or_else(|| not_built.to_string());
        let mut hashes = String::new();
        let mut rest = index.as_str();
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
                hashes.push_str(&format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ));
            }
            rest = &body_start[close..];
        }
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; media-src 'self' blob:; frame-src blob:; object-src 'none'; \
             connect-src 'self' https: http://127.0.0.1:* http://localhost:*; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        WebApp { files, index, csp }
    }

    /// Whether the app's files were found.
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

    /// The Content-Security-Policy for its pages.
    #[cfg(test)]
    fn csp(&self) -> &str {
        &self.csp
    }

    /// The file at `path` (the part of the URL after `/`), or the app's page
    /// for anything else (the app routes in the browser).
    pub async fn respond(&self, path: &str) -> Response {
        let path = path.trim_start_matches('/');
        let bytes = match &self.files {
            _ if path == "index.html" => None,
            Some(Files::Dir(dir)) if Files::plain(path) => tokio::fs::read(dir.join(path)).await.ok(),
            Some(files) => files.read(path),
            None => None,
        };
        {
            if let Some(bytes) = bytes {
                let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
                let mut response = ([(header::CONTENT_TYPE, mime(ext))], Body::from(bytes)).into_response();
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
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(app.csp().contains(&format!("'sha256-{digest}'")), "{}", app.csp());
        assert_eq!(app.csp().matches("'sha256-").count(), 1);
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
                let r = app.respond(path).await;
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
}
