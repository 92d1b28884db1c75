//! Talking to a relay: upload, fetch, revoke, read the access log.

use std::time::Duration;

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};

use super::{ErrorBody, LinkUpload, RelayError, Status, Upload, signing_message};
use crate::clock::Clock;

/// Longest a relay request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Largest refusal (or upload receipt) read from a relay.
const ERROR_BODY_CAP: usize = 64 * 1024;

/// Largest status read from a relay: 10,000 logged accesses fit with room.
const STATUS_CAP: usize = 4 * 1024 * 1024;

/// A relay client.
pub struct Client {
    http: reqwest::Client,
    /// Dates the signed requests (status, revoke, fetch as the named provider).
    clock: Clock,
}

/// The share URL for an id at a relay base URL.
pub fn share_url(base: &str, id: &str) -> String {
    format!("{}/v1/shares/{id}", base.trim_end_matches('/'))
}

/// A SMART Health Link's manifest URL for an id at a relay base URL.
pub fn link_url(base: &str, id: &str) -> String {
    format!("{}/v1/shl/{id}", base.trim_end_matches('/'))
}

impl Client {
    /// A client with sane timeouts that dates its signatures by `clock`.
    pub fn new(clock: Clock) -> Result<Client, RelayError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("amanat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RelayError::Server(e.to_string()))?;
        Ok(Client { http, clock })
    }

    async fn check(
        response: Result<reqwest::Response, reqwest::Error>,
        url: &str,
    ) -> Result<reqwest::Response, RelayError> {
        let response = response.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                RelayError::Unreachable(url.to_string())
            } else {
                RelayError::Server(e.to_string())
            }
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        // A refusal is a small JSON body; a relay that sends more is not believed.
        match Self::read_capped(response, ERROR_BODY_CAP).await {
            Ok(body) => match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(body) => Err(RelayError::from_body(&body)),
                Err(_) => Err(RelayError::Server(format!("HTTP {status} from {url}"))),
            },
            Err(_) => Err(RelayError::Server(format!("HTTP {status} from {url}"))),
        }
    }

    /// Parses a JSON body of at most `cap` bytes.
    async fn json_capped<T: serde::de::DeserializeOwned>(
        response: reqwest::Response,
        cap: usize,
    ) -> Result<T, RelayError> {
        let body = Self::read_capped(response, cap).await?;
        serde_json::from_slice(&body)
            .map_err(|e| RelayError::Server(format!("the relay's answer is not what it should be: {e}")))
    }

    /// Reads a body of at most `cap` bytes, refusing a longer one as soon as
    /// it is known to be longer: from `Content-Length`, or while streaming.
    pub(crate) async fn read_capped(
        mut response: reqwest::Response,
        cap: usize,
    ) -> Result<Vec<u8>, RelayError> {
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(RelayError::Oversized);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| RelayError::Server(e.to_string()))?
        {
            if body.len() + chunk.len() > cap {
                return Err(RelayError::Oversized);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Uploads a share; returns its URL.
    pub async fn upload(&self, base: &str, grant: &str, ciphertext: &[u8]) -> Result<String, RelayError> {
        let id = self.post_share(base, grant, ciphertext, None).await?;
        Ok(share_url(base, &id))
    }

    /// Uploads a SMART Health Link's file (its compact JWE) with its grant and
    /// passcode; returns the link's manifest URL.
    pub async fn upload_link(
        &self,
        base: &str,
        grant: &str,
        jwe: &str,
        passcode: Option<&str>,
    ) -> Result<String, RelayError> {
        let link = LinkUpload {
            passcode: passcode.map(str::to_string),
        };
        let id = self.post_share(base, grant, jwe.as_bytes(), Some(link)).await?;
        Ok(link_url(base, &id))
    }

    async fn post_share(
        &self,
        base: &str,
        grant: &str,
        ciphertext: &[u8],
        link: Option<LinkUpload>,
    ) -> Result<String, RelayError> {
        let url = format!("{}/v1/shares", base.trim_end_matches('/'));
        let body = Upload {
            grant: grant.to_string(),
            ciphertext: base64::engine::general_purpose::STANDARD.encode(ciphertext),
            link,
        };
        let response = Self::check(self.http.post(&url).json(&body).send().await, &url).await?;
        #[derive(serde::Deserialize)]
        struct Created {
            id: String,
        }
        let created: Created = Self::json_capped(response, ERROR_BODY_CAP).await?;
        Ok(created.id)
    }

    /// Fetches a share's ciphertext (counts a use), at most
    /// [`MAX_BUNDLE`](crate::share::MAX_BUNDLE) bytes. A share made for a
    /// provider is fetched `as` them: the request is signed with their key,
    /// and the relay answers no one else.
    pub async fn fetch(&self, url: &str, signer: Option<&SigningKey>) -> Result<Vec<u8>, RelayError> {
        let mut request = self.http.get(url);
        if let Some(key) = signer {
            request = request.header("authorization", self.authorization(key, "GET", url)?);
        }
        let response = Self::check(request.send().await, url).await?;
        Self::read_capped(response, crate::share::MAX_BUNDLE).await
    }

    /// Whether the relay holds a share under `url`'s id, asked without a
    /// signature: a share to a named provider answers "provider only" and
    /// counts no use (Scan & Share looks for the first free token so).
    pub async fn holds(&self, url: &str) -> Result<bool, RelayError> {
        match Self::check(self.http.get(url).send().await, url).await {
            Err(RelayError::NotFound) => Ok(false),
            Ok(_)
            | Err(
                RelayError::ProviderOnly
                | RelayError::Revoked
                | RelayError::Expired
                | RelayError::UsesExhausted
                | RelayError::LinkDead,
            ) => Ok(true),
            Err(e) => Err(e),
        }
    }

    fn authorization(&self, key: &SigningKey, method: &str, url: &str) -> Result<String, RelayError> {
        let path = reqwest::Url::parse(url)
            .map_err(|e| RelayError::BadRequest(e.to_string()))?
            .path()
            .to_string();
        let t = self.clock.now();
        let sig = key.sign(signing_message(method, &path, t).as_bytes());
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Ok(format!(
            "Amanat-Signature t={t},sig={},key={}",
            b64(&sig.to_bytes()),
            b64(key.verifying_key().as_bytes())
        ))
    }

    /// Revokes a share (signed with the patient's key).
    pub async fn revoke(&self, url: &str, key: &SigningKey) -> Result<(), RelayError> {
        let auth = self.authorization(key, "DELETE", url)?;
        Self::check(
            self.http.delete(url).header("authorization", auth).send().await,
            url,
        )
        .await?;
        Ok(())
    }

    /// Uses, limit and access log of a share (signed with the patient's key).
    pub async fn status(&self, url: &str, key: &SigningKey) -> Result<Status, RelayError> {
        let log = format!("{url}/log");
        let auth = self.authorization(key, "GET", &log)?;
        let response = Self::check(
            self.http.get(&log).header("authorization", auth).send().await,
            &log,
        )
        .await?;
        Self::json_capped(response, STATUS_CAP).await
    }
}
