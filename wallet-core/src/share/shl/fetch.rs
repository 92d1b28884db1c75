//! Resolving a SMART Health Link over the network: POST the manifest (or GET
//! the one file, flag `U`), then GET each file a manifest gives by
//! `location`. Redirects are refused (a link names its own server), every
//! body is read with a cap, and a passcode refusal reports the attempts left.

use std::time::Duration;

use super::{MAX_FILE, MAX_FILES, Manifest, ManifestRequest, ShlError, ShlLink, check_address};
use crate::relay::client::Client;
use crate::relay::{ErrorBody, RelayError};

/// Longest one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Largest manifest read: its files embedded, base64url text.
const MAX_MANIFEST: usize = 2 * MAX_FILE;

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
    if link.flags.passcode && passcode.is_none() {
        return Err(ShlError::NeedsPasscode);
    }
    let request = ManifestRequest {
        recipient: recipient.to_string(),
        passcode: passcode.map(str::to_string),
        embedded_length_max: None,
    };
    let response = http.post(&link.url).json(&request).send().await;
    let body = read(response, &link.url, MAX_MANIFEST).await?;
    let manifest: Manifest = serde_json::from_slice(&body)
        .map_err(|e| ShlError::Manifest(format!("it is not the IG's JSON manifest ({e})")))?;
    if manifest.files.len() > MAX_FILES {
        return Err(ShlError::TooLarge(format!(
            "{} files; at most {MAX_FILES}",
            manifest.files.len()
        )));
    }
    let mut files = Vec::with_capacity(manifest.files.len());
    for file in manifest.files {
        let jwe = match (file.embedded, file.location) {
            (Some(embedded), None) => embedded,
            (None, Some(location)) => {
                check_address(&location)?;
                get_file(&http, &location, None).await?
            }
            _ => {
                return Err(ShlError::Manifest(
                    "a file has to have either 'embedded' or 'location'".into(),
                ));
            }
        };
        if jwe.len() > MAX_FILE {
            return Err(ShlError::TooLarge(format!("a file over {MAX_FILE} bytes")));
        }
        files.push((file.content_type, jwe));
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
    #[derive(serde::Deserialize)]
    struct Refusal {
        #[serde(rename = "remainingAttempts")]
        remaining_attempts: Option<u32>,
    }
    let refusal = serde_json::from_slice::<Refusal>(&body).ok();
    let said = serde_json::from_slice::<ErrorBody>(&body).ok();
    Err(match status.as_u16() {
        401 => match refusal.and_then(|r| r.remaining_attempts) {
            Some(0) => ShlError::Dead,
            Some(left) => ShlError::WrongPasscode(left),
            None => ShlError::Server("the passcode was refused (HTTP 401)".into()),
        },
        404 => ShlError::Server("the link's server has no such link (not found)".into()),
        _ => match said {
            Some(body) if body.error == "link dead" => ShlError::Dead,
            Some(body) => ShlError::Server(RelayError::from_body(&body).to_string()),
            None => ShlError::Server(format!("HTTP {status} from {url}")),
        },
    })
}
