//! SMART Health Link routes: the manifest a link's `url` names, its one file
//! (flag `U`, or a manifest's short-lived `location`), with the CORS an SHL
//! viewer on another origin needs.
//!
//! | method | path                          | what                                           |
//! |--------|-------------------------------|------------------------------------------------|
//! | POST   | `/v1/shl/{id}`                | manifest `{files:[…]}`; counts a use; checks the passcode (401 `remainingAttempts`) |
//! | GET    | `/v1/shl/{id}?recipient=…`    | the file itself (flag `U`, no passcode); counts a use |
//! | GET    | `/v1/shl/{id}?ticket=…`       | the file a manifest pointed to (`location`), for an hour |
//!
//! The manifest counts the use and lands in the patient's access log with
//! the recipient's words; a `location` ticket is an HMAC keyed by the SHA-256
//! of the file itself, so only a relay holding the file (or someone who has
//! it already) can make one, every relay on one store checks it, and
//! fetching by ticket counts nothing twice.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::Mac;
use sha2::{Digest, Sha256};

use super::{Client, Relay};
use crate::relay::RelayError;
use crate::share::shl::{FHIR_JSON, Manifest, ManifestFile, ManifestRequest};

/// How long a manifest's `location` works (the IG: at most an hour).
const TICKET_SECONDS: i64 = 3600;
/// Longest recipient kept in the access log.
const MAX_RECIPIENT: usize = 80;

type HmacSha256 = hmac::Hmac<Sha256>;

/// `Access-Control-Allow-Origin: *` and what a preflight needs: an SHL viewer
/// runs on any origin, and the link (not a cookie) is the credential.
fn cors(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn answer(result: Result<Response, RelayError>) -> Response {
    let mut response = match result {
        Ok(r) => r,
        // The IG's answer to a wrong passcode: 401 with the attempts left.
        Err(RelayError::WrongPasscode(left)) => {
            let body = serde_json::json!({
                "error": RelayError::WrongPasscode(left).code(),
                "message": RelayError::WrongPasscode(left).to_string(),
                "remainingAttempts": left,
            });
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    };
    cors(&mut response);
    response
}

/// The recipient as the access log shows it: printable, at most 80 characters.
fn recipient_words(recipient: &str) -> Result<String, RelayError> {
    let words: String = recipient
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_RECIPIENT)
        .collect();
    if words.is_empty() {
        return Err(RelayError::BadRequest(
            "a manifest request names its recipient (who is opening the link)".into(),
        ));
    }
    Ok(words)
}

fn ticket_mac(file: &[u8], id: &str, until: i64) -> HmacSha256 {
    let key = Sha256::digest(file);
    let mut mac = HmacSha256::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
    mac.update(format!("amanat-shl-file\n{id}\n{until}").as_bytes());
    mac
}

/// A `location` ticket for share `id`'s `file`, valid until `until`.
fn ticket(file: &[u8], id: &str, until: i64) -> String {
    format!(
        "{until}.{}",
        B64URL.encode(ticket_mac(file, id, until).finalize().into_bytes())
    )
}

fn valid_ticket(file: &[u8], id: &str, ticket: &str, now: i64) -> bool {
    let Some((until, mac)) = ticket.split_once('.') else {
        return false;
    };
    match (until.parse::<i64>(), B64URL.decode(mac)) {
        (Ok(until), Ok(mac)) if now < until && until - now <= TICKET_SECONDS => {
            ticket_mac(file, id, until).verify_slice(&mac).is_ok()
        }
        _ => false,
    }
}

/// The address this request reached, for a `location` on the same relay:
/// https, or http on this machine, as links themselves must be.
fn origin(headers: &HeaderMap) -> Result<String, RelayError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| RelayError::BadRequest("the request names no usable Host".into()))?;
    let http = format!("http://{host}");
    Ok(match crate::share::web_address(&http) {
        Ok(_) => http,
        Err(_) => format!("https://{host}"),
    })
}

/// `POST /v1/shl/{id}`: the manifest.
pub(super) async fn manifest(
    State(relay): State<Arc<Relay>>,
    Extension(Client(client)): Extension<Client>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(manifest_for(&relay, client, &id, &headers, &body).await)
}

async fn manifest_for(
    relay: &Relay,
    client: std::net::IpAddr,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, RelayError> {
    let request: ManifestRequest = serde_json::from_slice(body).map_err(|_| {
        RelayError::BadRequest(
            "a manifest request is JSON {\"recipient\": …, \"passcode\"?: …, \"embeddedLengthMax\"?: …}"
                .into(),
        )
    })?;
    let recipient = recipient_words(&request.recipient)?;
    let now = relay.config.clock.now();
    let meta = relay.store.meta(id).await?;
    let gate = meta.link.clone().ok_or(RelayError::NotFound)?;
    meta.openable(now, None)?;
    if let Some(check) = &gate.passcode {
        match request.passcode.as_deref() {
            None => return Err(RelayError::WrongPasscode(gate.attempts_left)),
            Some(given) if check.matches(given) => {}
            Some(_) => {
                let left = relay.store.wrong_passcode(id).await?;
                return Err(if left == 0 {
                    RelayError::LinkDead
                } else {
                    RelayError::WrongPasscode(left)
                });
            }
        }
    }
    let from = format!("{client} · {recipient}");
    let file = relay.store.fetch(id, now, &from, None, true).await?;
    let fits = request
        .embedded_length_max
        .is_none_or(|max| file.len() as u64 <= max);
    let (embedded, location) = if fits {
        let text = String::from_utf8(file)
            .map_err(|_| RelayError::Server("a stored link file is not text".into()))?;
        (Some(text), None)
    } else {
        let ticket = ticket(&file, id, now + TICKET_SECONDS);
        (
            None,
            Some(format!("{}/v1/shl/{id}?ticket={ticket}", origin(headers)?)),
        )
    };
    let manifest = Manifest {
        files: vec![ManifestFile {
            content_type: FHIR_JSON.into(),
            embedded,
            location,
        }],
    };
    Ok(Json(manifest).into_response())
}

/// What a file GET may carry.
#[derive(serde::Deserialize)]
pub(super) struct FileQuery {
    recipient: Option<String>,
    ticket: Option<String>,
}

/// `GET /v1/shl/{id}`: the file, by ticket or (flag `U`) directly.
pub(super) async fn file(
    State(relay): State<Arc<Relay>>,
    Extension(Client(client)): Extension<Client>,
    Path(id): Path<String>,
    Query(query): Query<FileQuery>,
) -> Response {
    answer(file_for(&relay, client, &id, query).await)
}

async fn file_for(
    relay: &Relay,
    client: std::net::IpAddr,
    id: &str,
    query: FileQuery,
) -> Result<Response, RelayError> {
    let now = relay.config.clock.now();
    let meta = relay.store.meta(id).await?;
    let gate = meta.link.clone().ok_or(RelayError::NotFound)?;
    let file = match &query.ticket {
        Some(ticket) => {
            // The use was counted with the manifest.
            if meta.revoked {
                return Err(RelayError::Revoked);
            }
            if now >= meta.exp {
                return Err(RelayError::Expired);
            }
            let file = relay.store.blob(id).await?;
            if !valid_ticket(&file, id, ticket, now) {
                return Err(RelayError::Unauthorized);
            }
            file
        }
        None => {
            if gate.passcode.is_some() {
                return Err(RelayError::WrongPasscode(gate.attempts_left));
            }
            let recipient = recipient_words(query.recipient.as_deref().unwrap_or_default())?;
            let from = format!("{client} · {recipient}");
            relay.store.fetch(id, now, &from, None, true).await?
        }
    };
    let mut response = Bytes::from(file).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jose"));
    Ok(response)
}

/// `OPTIONS /v1/shl/{id}`: the CORS preflight.
pub(super) async fn preflight() -> Response {
    answer(Ok(StatusCode::NO_CONTENT.into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_only_its_file_for_an_hour() {
        let t = ticket(b"jwe", "abc", 1_000 + TICKET_SECONDS);
        assert!(valid_ticket(b"jwe", "abc", &t, 1_000));
        assert!(
            !valid_ticket(b"jwe", "abc", &t, 1_000 + TICKET_SECONDS),
            "expired"
        );
        assert!(!valid_ticket(b"jwe", "abd", &t, 1_000), "another share");
        assert!(!valid_ticket(b"other", "abc", &t, 1_000), "another file");
        let far = ticket(b"jwe", "abc", 1_000 + 10 * TICKET_SECONDS);
        assert!(!valid_ticket(b"jwe", "abc", &far, 1_000), "longer than an hour");
        assert!(!valid_ticket(b"jwe", "abc", "nonsense", 1_000));
    }

    #[test]
    fn a_location_is_https_except_on_this_machine() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8480"));
        assert_eq!(origin(&h).unwrap(), "http://127.0.0.1:8480");
        h.insert(header::HOST, HeaderValue::from_static("relay.example"));
        assert_eq!(origin(&h).unwrap(), "https://relay.example");
        h.insert(header::HOST, HeaderValue::from_static("evil/x"));
        assert!(origin(&h).is_err());
    }
}
