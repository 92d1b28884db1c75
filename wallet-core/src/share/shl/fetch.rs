//! Resolving a SMART Health Link over the network: POST the manifest (or GET
//! the one file, flag `U`), then GET each file a manifest gives by
//! `location`. Redirects are refused (a link names its own server), every
//! body is read with a cap, and a passcode refusal reports the attempts left.

use std::time::Duration;

use super::{FileAt, MAX_FILE, MAX_MANIFEST, ShlError, ShlLink, manifest_files, manifest_request, refusal};
use crate::relay::RelayError;
use crate::relay::client::Client;

/// Longest one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

fn http() -> Result<reqwest::Client, ShlError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("amanat/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ShlError::Server(e.to_string()))
}

/// Fetches a link's files as `(content type, compact JWE)`, for
/// [`super::open_files`]. `recipient` is who is opening it (the sharer's
/// access log shows it).
pub async fn files(
    link: &ShlLink,
    recipient: &str,
    passcode: Option<&str>,
    now: i64,
) -> Result<Vec<(String, String)>, ShlError> {
    link.check_time(now)?;
    let http = http()?;
    if link.flags.direct {
        let jwe = get_file(&http, &link.url, Some(recipient)).await?;
        return Ok(vec![(String::new(), jwe)]);
    }
    let request = manifest_request(link, recipient, passcode.map(str::to_string))?;
    let response = http.post(&link.url).json(&request).send().await;
    let body = read(response, &link.url, MAX_MANIFEST).await?;
    let mut files = Vec::new();
    for (content_type, at) in manifest_files(&body)? {
        let jwe = match at {
            FileAt::Embedded(jwe) => jwe,
            FileAt::Location(location) => get_file(&http, &location, None).await?,
        };
        files.push((content_type, jwe));
    }
    Ok(files)
}

async fn get_file(http: &reqwest::Client, url: &str, recipient: Option<&str>) -> Result<String, ShlError> {
    let mut target =
        reqwest::Url::parse(url).map_err(|_| ShlError::Address(url.chars().take(200).collect()))?;
    if let Some(r) = recipient {
        target.query_pairs_mut().append_pair("recipient", r);
    }
    let body = read(http.get(target).send().await, url, MAX_FILE).await?;
    String::from_utf8(body).map_err(|_| ShlError::Content("a file is not JWE text".into()))
}

/// A body of at most `cap` bytes from a 2xx answer; every other answer is
/// its own refusal.
async fn read(
    response: Result<reqwest::Response, reqwest::Error>,
    url: &str,
    cap: usize,
) -> Result<Vec<u8>, ShlError> {
    let response = response.map_err(|e| {
        if e.is_connect() || e.is_timeout() {
            ShlError::Unreachable(url.to_string())
        } else {
            ShlError::Server(e.to_string())
        }
    })?;
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("elsewhere");
        return Err(ShlError::Redirect(to.chars().take(200).collect()));
    }
    let body = Client::read_capped(response, cap).await.map_err(|e| match e {
        RelayError::Oversized => ShlError::TooLarge(format!("an answer over {cap} bytes")),
        other => ShlError::Server(other.to_string()),
    })?;
    if status.is_success() {
        return Ok(body);
    }
    Err(refusal(status.as_u16(), &body, url))
}
