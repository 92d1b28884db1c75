//! A built web app (Trunk's output: `index.html`, hashed JS, wasm and CSS)
//! served with the Content-Security-Policy that fits it: the web wallet by
//! `amanat serve`, the share viewer by `amanat relay`.
//!
//! Trunk's loader is an inline module script; the policy allows exactly it, by
//! hash, and nothing else inline. Files whose names carry Trunk's content hash
//! are cached for a year; the page itself is checked again on every visit, so
//! a new build is picked up at once.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// A web app's files and the policy that goes with them.
pub struct WebApp {
    dir: Option<PathBuf>,
    index: String,
    csp: String,
}

impl WebApp {
    /// The app in `dir` (`None`, or a directory without `index.html`: every
    /// page is `not_built`, which says how to build it).
    pub fn load(dir: Option<&Path>, not_built: &str) -> WebApp {
        let index = dir
            .and_then(|d| std::fs::read_to_string(d.join("index.html")).ok())
            .unwrap_or_else(|| not_built.to_string());
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
        WebApp {
            dir: dir.map(Path::to_path_buf),
            index,
            csp,
        }
    }

    /// Whether the app's files were found.
    pub fn is_built(&self) -> bool {
        self.dir.as_ref().is_some_and(|d| d.join("index.html").is_file())
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
        if let Some(dir) = &self.dir
            && !path.is_empty()
            && path != "index.html"
            && !path.contains("..")
            && !path.contains('\\')
        {
            let file = dir.join(path);
            if file.is_file()
                && let Ok(bytes) = tokio::fs::read(&file).await
            {
                let ext = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
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
        let app = WebApp::load(Some(dir.path()), "not built");
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(app.csp().contains(&format!("'sha256-{digest}'")), "{}", app.csp());
        assert_eq!(app.csp().matches("'sha256-").count(), 1);
        assert!(app.is_built());
        assert!(!WebApp::load(None, "not built").is_built());
    }
}
