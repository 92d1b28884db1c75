//! SMART Health Links (HL7 *SMART Health Cards and Links* IG, STU1): the
//! link (`shlink:/` + base64url JSON payload), the manifest a relay serves,
//! and the files, which are FHIR bundles encrypted as compact JWE.
//!
//! What Amanat writes: one file, a FHIR `Bundle` (collection) of the granted
//! records whose `signature` is the patient's signed consent grant (a JWS,
//! `sigFormat` `application/jose`), so any SHL viewer shows the records and an
//! Amanat viewer also checks each record's SHA-256 against what the patient
//! signed. What Amanat reads: any SHL's `application/fhir+json` files (a
//! Bundle or one resource) and `application/smart-health-card` files (the
//! card's FHIR bundle; its issuer's signature is not checked, and the reader
//! says so). See docs/shl.md. This module is pure (no I/O): the network part
//! is [`fetch`], for the CLI.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::grant::{Grant, GrantError, Grantee, SignedGrant};
use super::{OutBundle, Received, ShareError, ShareInput};
use crate::fhir::date::FhirDateTime;
use crate::fhir::{Description, Resource};
use crate::ids::WalletId;

#[cfg(feature = "native")]
pub mod fetch;
pub mod jwe;

/// A SMART Health Link starts with this, alone or after a viewer's `#`.
pub const SHL_PREFIX: &str = "shlink:/";

/// A FHIR resource or Bundle.
pub const FHIR_JSON: &str = "application/fhir+json";
/// `{"verifiableCredential": [JWS, …]}`.
pub const HEALTH_CARD: &str = "application/smart-health-card";

/// Largest file Amanat reads from a link (its JWE text, and its plaintext
/// once decrypted and inflated): 16 MiB, so a hostile manifest cannot make a
/// doctor's phone hold more.
pub const MAX_FILE: usize = 16 * 1024 * 1024;
/// Largest manifest read: its files embedded, base64url text.
pub const MAX_MANIFEST: usize = 2 * MAX_FILE;
/// Most files read from one manifest.
pub const MAX_FILES: usize = 32;
/// Wrong passcodes a relay accepts before the link is dead for good.
pub const PASSCODE_ATTEMPTS: u32 = 10;
/// Longest label (the IG's limit).
pub const MAX_LABEL: usize = 80;

/// Why a SMART Health Link cannot be opened. Each says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShlError {
    /// No `shlink:/` in it.
    #[error("this is not a SMART Health Link (it should contain shlink:/)")]
    NotShl,
    /// The payload is not base64url JSON with the IG's fields.
    #[error("the SMART Health Link is damaged: {0}")]
    Payload(String),
    /// The key is not 32 bytes.
    #[error(
        "the SMART Health Link's key is {0} bytes, not 32 (43 base64url characters): it was altered or cut"
    )]
    KeyLength(usize),
    /// A manifest address Amanat does not send a request to.
    #[error("the SMART Health Link's address '{0}' is not https:// (plain http only on this machine)")]
    Address(String),
    /// Past the link's `exp`.
    #[error("this SMART Health Link expired at {0}")]
    Expired(String),
    /// A passcode link opened without one.
    #[error("this SMART Health Link is locked with a passcode: ask the patient for it (--passcode)")]
    NeedsPasscode,
    /// The server refused the passcode.
    #[error("the passcode is wrong: {0} attempts left before the link stops working")]
    WrongPasscode(u32),
    /// Too many wrong passcodes: the server disabled the link.
    #[error(
        "this SMART Health Link no longer works: too many wrong passcodes (ask the patient for a new one)"
    )]
    Dead,
    /// The manifest is not what the IG says.
    #[error("the link's server sent a manifest that is not valid: {0}")]
    Manifest(String),
    /// More than Amanat reads.
    #[error("the link's server sent more than Amanat opens ({0})")]
    TooLarge(String),
    /// The server answered with a redirect.
    #[error("the link's server answered with a redirect to '{0}': refused (a link names its own server)")]
    Redirect(String),
    /// The server refused or failed.
    #[error("the link's server refused: {0}")]
    Server(String),
    /// The server could not be reached.
    #[error("the link's server at {0} cannot be reached")]
    Unreachable(String),
    /// A file does not decrypt.
    #[error(transparent)]
    Jwe(#[from] super::shl::jwe::JweError),
    /// A file's content type differs from what the manifest said.
    #[error("a file says it is '{found}' but the manifest says '{declared}': refused")]
    ContentType {
        /// In the manifest.
        declared: String,
        /// In the file's header.
        found: String,
    },
    /// A file is not the FHIR or health card it says.
    #[error("a file is not usable: {0}")]
    Content(String),
    /// A bundle signed by a patient's wallet that does not verify.
    #[error("{0}")]
    Signed(ShareError),
    /// Nothing readable in the files.
    #[error("the SMART Health Link holds no records Amanat can read")]
    Empty,
}

/// The link's flags: `L` long-term, `P` passcode, `U` the url is the one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `L`: the link is meant to be used again over time.
    pub long_term: bool,
    /// `P`: the manifest needs a passcode.
    pub passcode: bool,
    /// `U`: `url` returns the single encrypted file (GET with `recipient`).
    pub direct: bool,
}

impl Flags {
    /// The `flag` text, in the IG's order (`L`, `P`, `U`); empty for none.
    pub fn text(self) -> String {
        [(self.long_term, 'L'), (self.passcode, 'P'), (self.direct, 'U')]
            .into_iter()
            .filter_map(|(on, c)| on.then_some(c))
            .collect()
    }

    fn parse(text: &str) -> Result<Flags, ShlError> {
        let mut flags = Flags::default();
        for c in text.chars() {
            match c {
                'L' => flags.long_term = true,
                'P' => flags.passcode = true,
                'U' => flags.direct = true,
                other => return Err(ShlError::Payload(format!("unknown flag '{other}'"))),
            }
        }
        if flags.passcode && flags.direct {
            return Err(ShlError::Payload(
                "flags P and U together (a direct file has no passcode)".into(),
            ));
        }
        Ok(flags)
    }
}

/// A decoded SMART Health Link.
#[derive(Clone, PartialEq, Eq)]
pub struct ShlLink {
    /// The manifest's address (or the file's, with `U`).
    pub url: String,
    /// The key of its files.
    pub key: Zeroizing<[u8; 32]>,
    /// Expiry (seconds since 1970), if it has one.
    pub exp: Option<i64>,
    /// Its flags.
    pub flags: Flags,
    /// What the sharer called it.
    pub label: Option<String>,
}

impl std::fmt::Debug for ShlLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShlLink")
            .field("url", &self.url)
            .field("exp", &self.exp)
            .field("flags", &self.flags)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    url: String,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
}

/// Whether `text` is a SMART Health Link (alone or after a viewer's `#`),
/// rather than an Amanat link.
pub fn is_shl(text: &str) -> bool {
    text.contains(SHL_PREFIX)
}

impl ShlLink {
    /// Reads `shlink:/…`, or a viewer URL `https://viewer/#shlink:/…`.
    pub fn decode(text: &str) -> Result<ShlLink, ShlError> {
        let text = text.trim();
        let start = text.find(SHL_PREFIX).ok_or(ShlError::NotShl)?;
        let encoded = &text[start + SHL_PREFIX.len()..];
        let bytes = B64URL
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| ShlError::Payload("its payload is not base64url".into()))?;
        let p: Payload = serde_json::from_slice(&bytes)
            .map_err(|e| ShlError::Payload(format!("its payload is not the IG's JSON ({e})")))?;
        if p.v.is_some_and(|v| v != 1) {
            return Err(ShlError::Payload(format!(
                "version {} (Amanat reads version 1)",
                p.v.unwrap_or_default()
            )));
        }
        let key = B64URL
            .decode(p.key.trim_end_matches('='))
            .map_err(|_| ShlError::Payload("its key is not base64url".into()))?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| ShlError::KeyLength(key.len()))?;
        let key = Zeroizing::new(key);
        let exp = match p.exp {
            None => None,
            Some(n) => Some(
                n.as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                    .filter(|t| *t > 0)
                    .ok_or_else(|| ShlError::Payload("its exp is not a time".into()))?,
            ),
        };
        let flags = Flags::parse(p.flag.as_deref().unwrap_or_default())?;
        if p.label.as_ref().is_some_and(|l| l.chars().count() > MAX_LABEL) {
            return Err(ShlError::Payload(format!(
                "its label is over {MAX_LABEL} characters"
            )));
        }
        check_address(&p.url)?;
        Ok(ShlLink {
            url: p.url,
            key,
            exp,
            flags,
            label: p.label,
        })
    }

    /// `shlink:/<base64url JSON>`.
    pub fn encode(&self) -> String {
        let flag = self.flags.text();
        let payload = Payload {
            url: self.url.clone(),
            key: B64URL.encode(*self.key),
            exp: self.exp.map(serde_json::Number::from),
            flag: (!flag.is_empty()).then_some(flag),
            label: self.label.clone(),
            v: Some(1),
        };
        let json = Zeroizing::new(serde_json::to_vec(&payload).unwrap_or_default());
        format!("{SHL_PREFIX}{}", B64URL.encode(&*json))
    }

    /// `<viewer>#shlink:/…`: opens in the viewer from a phone's camera.
    pub fn encode_url(&self, viewer: &str) -> String {
        format!("{viewer}#{}", self.encode())
    }

    /// Refuses a link past its `exp`.
    pub fn check_time(&self, now: i64) -> Result<(), ShlError> {
        match self.exp {
            Some(exp) if now >= exp => Err(ShlError::Expired(super::grant::human_time(exp))),
            _ => Ok(()),
        }
    }
}

/// A manifest or file address Amanat sends a request to: https, or http on
/// this machine; no credentials.
fn check_address(url: &str) -> Result<(), ShlError> {
    let refused = || ShlError::Address(url.chars().take(200).collect());
    let rest = super::web_address(url).map_err(|_| refused())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(refused());
    }
    Ok(())
}

/// What a viewer POSTs to the manifest address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestRequest {
    /// Who is asking (a name; lands in the patient's access log).
    pub recipient: String,
    /// The passcode, for a `P` link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    /// Files longer than this come by `location` instead of `embedded`.
    #[serde(
        rename = "embeddedLengthMax",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub embedded_length_max: Option<u64>,
}

/// The manifest: the link's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Each file.
    pub files: Vec<ManifestFile>,
}

/// One file: its JWE inline, or where to GET it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// `application/fhir+json`, `application/smart-health-card`, …
    #[serde(rename = "contentType")]
    pub content_type: String,
    /// The compact JWE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<String>,
    /// A short-lived address of the compact JWE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Where a manifest says a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAt {
    /// The compact JWE itself.
    Embedded(String),
    /// An address to GET it from (checked like a link's own).
    Location(String),
}

/// The manifest request for `link` from `recipient`, or why it cannot be
/// asked for yet (a `P` link without its passcode).
pub fn manifest_request(
    link: &ShlLink,
    recipient: &str,
    passcode: Option<String>,
) -> Result<ManifestRequest, ShlError> {
    if link.flags.passcode && passcode.is_none() {
        return Err(ShlError::NeedsPasscode);
    }
    Ok(ManifestRequest {
        recipient: recipient.to_string(),
        passcode,
        embedded_length_max: None,
    })
}

/// A manifest's files as `(content type, where)`: at most [`MAX_FILES`],
/// each with exactly one of `embedded` and `location`, an embedded file at
/// most [`MAX_FILE`] bytes, a location an address Amanat asks
/// ([`ShlLink::decode`]'s rule). The CLI and the phone viewer both read
/// manifests through this.
pub fn manifest_files(body: &[u8]) -> Result<Vec<(String, FileAt)>, ShlError> {
    let manifest: Manifest = serde_json::from_slice(body)
        .map_err(|e| ShlError::Manifest(format!("it is not the IG's JSON manifest ({e})")))?;
    if manifest.files.len() > MAX_FILES {
        return Err(ShlError::TooLarge(format!(
            "{} files; at most {MAX_FILES}",
            manifest.files.len()
        )));
    }
    manifest
        .files
        .into_iter()
        .map(|file| {
            let at = match (file.embedded, file.location) {
                (Some(jwe), None) if jwe.len() > MAX_FILE => {
                    return Err(ShlError::TooLarge(format!("a file over {MAX_FILE} bytes")));
                }
                (Some(jwe), None) => FileAt::Embedded(jwe),
                (None, Some(location)) => {
                    check_address(&location)?;
                    FileAt::Location(location)
                }
                _ => {
                    return Err(ShlError::Manifest(
                        "a file has to have either 'embedded' or 'location'".into(),
                    ));
                }
            };
            Ok((file.content_type, at))
        })
        .collect()
}

/// Why a link's server said no (any status but 2xx and 3xx), from its
/// answer's `body`: a wrong passcode with the attempts left, a dead link, no
/// such link, or what the server said in its own words.
pub fn refusal(status: u16, body: &[u8], url: &str) -> ShlError {
    #[derive(Deserialize)]
    struct Said {
        #[serde(rename = "remainingAttempts")]
        remaining_attempts: Option<u32>,
        error: Option<String>,
        message: Option<String>,
    }
    let said = serde_json::from_slice::<Said>(body).ok();
    let said = said.as_ref();
    match status {
        401 => match said.and_then(|s| s.remaining_attempts) {
            Some(0) => ShlError::Dead,
            Some(left) => ShlError::WrongPasscode(left),
            None => ShlError::Server("the passcode was refused (HTTP 401)".into()),
        },
        404 => ShlError::Server("the link's server has no such link (not found)".into()),
        _ if said.and_then(|s| s.error.as_deref()) == Some("link dead") => ShlError::Dead,
        _ => match said.and_then(|s| s.message.clone()) {
            Some(message) => ShlError::Server(message),
            None => ShlError::Server(format!("HTTP {status} from {url}")),
        },
    }
}

/// The signed grant inside a bundle: FHIR's `Bundle.signature`, a consent
/// signature whose data is the grant's JWS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BundleSignature {
    #[serde(rename = "type")]
    kind: Vec<Coding>,
    when: String,
    who: Display,
    #[serde(rename = "sigFormat")]
    sig_format: String,
    data: String,
}

impl BundleSignature {
    /// The FHIR signature that carries `signed`, the grant `grant` (whose
    /// `wallet` is set), in a bundle.
    pub(crate) fn of(grant: &Grant, signed: &SignedGrant) -> BundleSignature {
        BundleSignature {
            kind: vec![Coding {
                system: SIGNATURE_SYSTEM.into(),
                code: CONSENT_SIGNATURE.into(),
                display: Some("Consent Signature".into()),
            }],
            when: FhirDateTime::from_unix(grant.iat).as_str().to_string(),
            who: Display {
                display: format!("Amanat wallet {}", grant.wallet),
            },
            sig_format: JOSE.into(),
            data: B64.encode(signed.compact()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Coding {
    system: String,
    code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Display {
    #[serde(default)]
    display: String,
}

/// ISO/ASTM E1762 signature types; Consent Signature.
const SIGNATURE_SYSTEM: &str = "urn:iso-astm:E1762-95:2013";
const CONSENT_SIGNATURE: &str = "1.2.840.10065.1.12.1.7";
const JOSE: &str = "application/jose";

/// A sealed SMART Health Link share: the grant and the one encrypted file.
pub struct SealedShl {
    /// The grant (records filled in).
    pub grant: Grant,
    /// Its signature.
    pub signed: SignedGrant,
    /// The file: the signed bundle as a compact JWE.
    pub jwe: String,
    /// The link's key.
    pub key: Zeroizing<[u8; 32]>,
}

/// A grant id for a link share: 32 random bytes, base64url. The manifest
/// address ends with it, and the IG asks for 256 bits of entropy there.
pub fn new_grant_id() -> String {
    let mut id = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut id);
    B64URL.encode(id)
}

/// Seals records as a SMART Health Link's file, under a grant signed with `key`.
pub fn seal(inputs: &[ShareInput], mut grant: Grant, key: &SigningKey) -> Result<SealedShl, ShareError> {
    if inputs.is_empty() {
        return Err(ShareError::Empty);
    }
    if !matches!(grant.to, Grantee::Bearer) {
        return Err(ShareError::Encrypt(
            "a SMART Health Link opens for whoever holds it: it cannot name a provider".into(),
        ));
    }
    let (records, mut entry) = super::granted(inputs)?;
    grant.records = records;
    let signed = SignedGrant::sign(&grant, key);
    grant.wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
    // Whom the records are about, first, for viewers that know nothing of grants.
    let patient = String::from_utf8(super::patient::resource(&grant)).unwrap_or_default();
    let patient = RawValue::from_string(patient).map_err(|e| ShareError::Encrypt(e.to_string()))?;
    entry.insert(0, super::OutEntry::of(patient));
    let bundle = OutBundle {
        resource_type: "Bundle",
        bundle_type: "collection",
        entry,
        signature: Some(BundleSignature::of(&grant, &signed)),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&bundle).map_err(|e| ShareError::Encrypt(e.to_string()))?);
    let mut link_key = Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(&mut *link_key);
    let jwe = jwe::encrypt(&link_key, FHIR_JSON, &plain);
    Ok(SealedShl {
        grant,
        signed,
        jwe,
        key: link_key,
    })
}

/// What a link's files hold.
#[derive(Debug, Clone, Default)]
pub struct Opened {
    /// Bundles signed by a patient's wallet, each verified like an Amanat share.
    pub signed: Vec<Received>,
    /// Records no patient wallet signed (from other software), each valid FHIR.
    pub unsigned: Vec<(Resource, Description)>,
    /// What was in the files but not shown, and what was not checked.
    pub notes: Vec<String>,
}

/// Decrypts and reads a link's files (`(content type from the manifest,
/// compact JWE)`), checking any patient-signed bundle against its grant.
pub fn open_files(link: &ShlLink, files: &[(String, String)], now: i64) -> Result<Opened, ShlError> {
    let mut opened = Opened::default();
    for (declared, compact) in files {
        let file = jwe::decrypt(&link.key, compact, MAX_FILE)?;
        if let Some(found) = &file.content_type
            && !declared.is_empty()
            && found != declared
        {
            return Err(ShlError::ContentType {
                declared: declared.clone(),
                found: found.clone(),
            });
        }
        let kind = file.content_type.as_deref().unwrap_or(declared);
        match kind {
            FHIR_JSON => read_fhir(&file.plain, now, &mut opened)?,
            HEALTH_CARD => read_card(&file.plain, &mut opened)?,
            other => opened
                .notes
                .push(format!("a file of type '{other}' was not shown")),
        }
    }
    if opened.signed.is_empty() && opened.unsigned.is_empty() {
        return Err(ShlError::Empty);
    }
    Ok(opened)
}

/// A FHIR file: a bundle signed by a patient's wallet (verified), or any
/// other resource or bundle (validated, unsigned).
fn read_fhir(plain: &[u8], now: i64, opened: &mut Opened) -> Result<(), ShlError> {
    match signed_bundle(plain, now).map_err(ShlError::Signed)? {
        Some(received) => opened.signed.push(received),
        None => {
            let resources =
                crate::fhir::read_resources(plain).map_err(|e| ShlError::Content(e.to_string()))?;
            opened.unsigned.extend(crate::fhir::whole(resources));
        }
    }
    Ok(())
}

/// The share in a bundle that carries its signed grant (`Bundle.signature`,
/// JOSE), verified like an Amanat link's: `None` when the bundle carries no
/// grant. A link's file and a consent request's answer are such bundles.
pub(crate) fn signed_bundle(plain: &[u8], now: i64) -> Result<Option<Received>, ShareError> {
    #[derive(Deserialize)]
    struct Signed {
        signature: Option<BundleSignature>,
    }
    let signature = serde_json::from_slice::<Signed>(plain)
        .ok()
        .and_then(|s| s.signature)
        .filter(|s| s.sig_format == JOSE);
    let Some(signature) = signature else {
        return Ok(None);
    };
    let jws = B64
        .decode(signature.data.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| GrantError::Malformed("the bundle's signature is not base64".into()))?;
    let (grant, patient_key) = SignedGrant::parse(&jws)?.verify()?;
    grant.check_time(now)?;
    let mut entries = super::bundle_entries(plain)?;
    // The Patient a link's sealer put first must be the one the grant describes.
    if entries.len() == grant.records.len() + 1 {
        if entries[0].bytes != super::patient::resource(&grant) {
            return Err(ShareError::SignatureMismatch);
        }
        entries.remove(0);
    }
    let records = super::check_records(&grant, &entries)?;
    Ok(Some(Received {
        wallet_id: WalletId::from_public_key(&patient_key),
        grant,
        patient_key,
        records,
    }))
}

/// A SMART Health Card file: each card's FHIR bundle. The card's issuer
/// signature (ES256, keys at the issuer's URL) is not checked here.
fn read_card(plain: &[u8], opened: &mut Opened) -> Result<(), ShlError> {
    #[derive(Deserialize)]
    struct CardFile {
        #[serde(rename = "verifiableCredential")]
        verifiable_credential: Vec<String>,
    }
    let bad = |why: &str| ShlError::Content(format!("a SMART Health Card {why}"));
    let file: CardFile =
        serde_json::from_slice(plain).map_err(|_| bad("file has no verifiableCredential list"))?;
    for jws in &file.verifiable_credential {
        let payload = jws.split('.').nth(1).ok_or_else(|| bad("is not a JWS"))?;
        let deflated = B64URL.decode(payload).map_err(|_| bad("is not base64url"))?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_FILE)
            .map_err(|_| bad("payload is not DEFLATE within 16 MiB"))?;
        let card: serde_json::Value =
            serde_json::from_slice(&json).map_err(|_| bad("payload is not JSON"))?;
        let bundle = card
            .pointer("/vc/credentialSubject/fhirBundle")
            .ok_or_else(|| bad("has no FHIR bundle"))?;
        let bytes = serde_json::to_vec(bundle).map_err(|_| bad("has no FHIR bundle"))?;
        let resources = crate::fhir::read_resources(&bytes).map_err(|e| ShlError::Content(e.to_string()))?;
        opened.unsigned.extend(crate::fhir::whole(resources));
        let issuer = card
            .get("iss")
            .and_then(|i| i.as_str())
            .unwrap_or("an unnamed issuer");
        opened.notes.push(format!(
            "a SMART Health Card from {issuer}: its issuer's signature was not checked"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(now: i64) -> Grant {
        Grant {
            jti: new_grant_id(),
            patient: "Ayesha Khan".into(),
            uses: None,
            records: Vec::new(),
            ..crate::share::grant::tests::sample(now)
        }
    }

    fn link(key: &[u8; 32], flag: &str) -> ShlLink {
        ShlLink::decode(&format!(
            "shlink:/{}",
            B64URL.encode(format!(
                r#"{{"url":"https://relay.example/v1/shl/x","key":"{}","flag":"{flag}","exp":1900000000,"label":"Ayesha's summary","v":1}}"#,
                B64URL.encode(key)
            ))
        ))
        .unwrap()
    }

    #[test]
    fn links_round_trip_with_every_flag_and_a_viewer_prefix() {
        for flag in ["", "L", "P", "LP", "U", "LU"] {
            let l = link(&[3; 32], flag);
            assert_eq!(l.flags.text(), flag);
            assert_eq!(ShlLink::decode(&l.encode()).unwrap(), l);
            assert_eq!(
                ShlLink::decode(&l.encode_url("https://viewer.example/")).unwrap(),
                l
            );
        }
        assert_eq!(link(&[3; 32], "").exp, Some(1_900_000_000));
        assert!(is_shl("https://v.example/#shlink:/eyJ"));
    }

    #[test]
    fn reads_the_igs_example_and_a_published_sample() {
        // The IG's example payload (links specification, "Example SHLink
        // generation"), as the IG encodes it.
        let ig = ShlLink::decode("shlink:/eyJ1cmwiOiJodHRwczovL2Voci5leGFtcGxlLm9yZy9xci9ZOXh3a1VkdG1OOXd3b0pvTjNmZkpJaFgyVUd2Q0wxSm5sUFZOTDNrRFdNL20iLCJmbGFnIjoiUCIsImtleSI6InJ4VGdZbE9hS0pQRnRjRWQwcWNjZU44d0VVNHA5NFNxQXdJV1FlNnVYN1EiLCJsYWJlbCI6IkJhY2sgdG8gc2Nob29sIGltbXVuaXphdGlvbnMifQ").unwrap();
        assert_eq!(
            ig.url,
            "https://ehr.example.org/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m"
        );
        assert_eq!(
            B64URL.encode(*ig.key),
            "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q"
        );
        assert_eq!((ig.flags.text(), ig.exp), ("P".to_string(), None));
        assert_eq!(ig.label.as_deref(), Some("Back to school immunizations"));
        // A published sample (examples.smqr.io): padded base64, spaces in the JSON.
        let sample = ShlLink::decode("shlink:/eyJ1cmwiOiAiaHR0cHM6Ly9leGFtcGxlcy1zaGxzZXJ2aWNlLnNtcXIuaW8vbWFuaWZlc3QxLmpzb24iLCAiZmxhZyI6ICJMIiwgImtleSI6ICJNamhpTVdRME1EUXpNems0TURFME1tWmlNR1UxTlRsbE1qSmlaR05qWlRVIn0=").unwrap();
        assert_eq!(sample.url, "https://examples-shlservice.smqr.io/manifest1.json");
        assert!(sample.flags.long_term && !sample.flags.passcode);
    }

    #[test]
    fn manifests_and_refusals_are_read_the_same_everywhere() {
        let files = manifest_files(
            br#"{"files":[{"contentType":"application/fhir+json","embedded":"a.b.c.d.e"},
            {"contentType":"application/fhir+json","location":"https://files.example/1"}]}"#,
        )
        .unwrap();
        assert_eq!(files[0].1, FileAt::Embedded("a.b.c.d.e".into()));
        assert_eq!(files[1].1, FileAt::Location("https://files.example/1".into()));
        assert!(matches!(
            manifest_files(br#"{"files":[{"contentType":"x","location":"http://files.example/1"}]}"#),
            Err(ShlError::Address(_))
        ));
        assert!(matches!(
            manifest_files(br#"{"files":[{"contentType":"x"}]}"#),
            Err(ShlError::Manifest(_))
        ));
        assert!(matches!(manifest_files(b"<html>"), Err(ShlError::Manifest(_))));
        assert_eq!(
            refusal(401, br#"{"remainingAttempts":3}"#, "u"),
            ShlError::WrongPasscode(3)
        );
        assert_eq!(refusal(401, br#"{"remainingAttempts":0}"#, "u"), ShlError::Dead);
        assert_eq!(
            refusal(410, br#"{"error":"link dead","message":"gone"}"#, "u"),
            ShlError::Dead
        );
        assert_eq!(
            refusal(
                410,
                br#"{"error":"revoked","message":"the patient revoked this share"}"#,
                "u"
            ),
            ShlError::Server("the patient revoked this share".into())
        );
        assert_eq!(
            refusal(500, b"oops", "u"),
            ShlError::Server("HTTP 500 from u".into())
        );
    }

    #[test]
    fn refuses_bad_links_each_with_its_reason() {
        let payload = |json: &str| format!("shlink:/{}", B64URL.encode(json));
        let key = B64URL.encode([1u8; 32]);
        assert_eq!(ShlLink::decode("hello").unwrap_err(), ShlError::NotShl);
        assert!(matches!(
            ShlLink::decode("shlink:/!!!"),
            Err(ShlError::Payload(_))
        ));
        assert_eq!(
            ShlLink::decode(&payload(&format!(
                r#"{{"url":"https://a.example/m","key":"{}"}}"#,
                B64URL.encode([1u8; 16])
            )))
            .unwrap_err(),
            ShlError::KeyLength(16)
        );
        assert!(matches!(
            ShlLink::decode(&payload(&format!(
                r#"{{"url":"http://a.example/m","key":"{key}"}}"#
            ))),
            Err(ShlError::Address(_))
        ));
        assert!(matches!(
            ShlLink::decode(&payload(&format!(
                r#"{{"url":"https://u:p@a.example/m","key":"{key}"}}"#
            ))),
            Err(ShlError::Address(_))
        ));
        assert!(matches!(
            ShlLink::decode(&payload(&format!(
                r#"{{"url":"https://a.example/m","key":"{key}","flag":"PU"}}"#
            ))),
            Err(ShlError::Payload(_))
        ));
        assert!(matches!(
            ShlLink::decode(&payload(&format!(
                r#"{{"url":"https://a.example/m","key":"{key}","v":2}}"#
            ))),
            Err(ShlError::Payload(_))
        ));
        let l = ShlLink::decode(&payload(&format!(
            r#"{{"url":"http://127.0.0.1:9/m","key":"{key}","exp":100}}"#
        )))
        .unwrap();
        assert!(matches!(l.check_time(100), Err(ShlError::Expired(_))));
        assert!(l.check_time(99).is_ok());
    }

    #[test]
    fn a_sealed_bundle_verifies_and_any_change_is_caught() {
        let now = 1_790_000_000;
        let key = SigningKey::from_bytes(&[9; 32]);
        let sealed = seal(&crate::share::tests::inputs_of(5), grant(now), &key).unwrap();
        let l = ShlLink {
            url: "https://relay.example/v1/shl/x".into(),
            key: sealed.key.clone(),
            exp: Some(sealed.grant.exp),
            flags: Flags::default(),
            label: None,
        };
        let files = vec![(FHIR_JSON.to_string(), sealed.jwe.clone())];
        let opened = open_files(&l, &files, now).unwrap();
        assert_eq!(opened.signed.len(), 1);
        assert_eq!(opened.signed[0].records.len(), 5);
        // The bundle starts with whom it is about, derived from the grant; a
        // Patient changed by whoever holds the key is refused.
        let plain = jwe::decrypt(&sealed.key, &sealed.jwe, MAX_FILE).unwrap().plain;
        let bundle: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(bundle["entry"][0]["resource"]["name"][0]["text"], "Ayesha Khan");
        let text = String::from_utf8(plain.to_vec()).unwrap();
        let renamed = jwe::encrypt(
            &sealed.key,
            FHIR_JSON,
            text.replacen("Ayesha Khan", "Someone Else", 1).as_bytes(),
        );
        assert!(matches!(
            open_files(&l, &[(FHIR_JSON.into(), renamed)], now),
            Err(ShlError::Signed(ShareError::SignatureMismatch))
        ));
        assert_eq!(opened.signed[0].grant.patient, "Ayesha Khan");
        assert!(opened.unsigned.is_empty());
        // Expired grant.
        assert!(matches!(
            open_files(&l, &files, now + 3600),
            Err(ShlError::Signed(ShareError::Grant(GrantError::Expired(_))))
        ));
        // A record changed by whoever holds the key: the signature no longer covers it.
        let plain = jwe::decrypt(&sealed.key, &sealed.jwe, MAX_FILE).unwrap().plain;
        let text = String::from_utf8(plain.to_vec()).unwrap();
        let changed = text.replacen("\"criticality\":\"high\"", "\"criticality\":\"low\"", 1);
        assert_ne!(changed, text);
        let forged = jwe::encrypt(&sealed.key, FHIR_JSON, changed.as_bytes());
        assert!(matches!(
            open_files(&l, &[(FHIR_JSON.into(), forged)], now),
            Err(ShlError::Signed(ShareError::RecordMismatch { .. }))
        ));
        // The manifest says one type, the file another.
        assert!(matches!(
            open_files(&l, &[(HEALTH_CARD.into(), sealed.jwe.clone())], now),
            Err(ShlError::ContentType { .. })
        ));
    }

    #[test]
    fn unsigned_fhir_and_health_cards_are_read_and_said_to_be_unsigned() {
        let key = [5u8; 32];
        let l = link(&key, "");
        let patient = br#"{"resourceType":"Patient","id":"p1","name":[{"family":"Doe","given":["John"]}]}"#;
        let card_payload = br#"{"iss":"https://issuer.example","vc":{"credentialSubject":{"fhirBundle":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p2"}}]}}}}"#;
        let jws = format!(
            "e30.{}.sig",
            B64URL.encode(miniz_oxide::deflate::compress_to_vec(card_payload, 6))
        );
        let card = format!(r#"{{"verifiableCredential":["{jws}"]}}"#);
        let files = vec![
            (FHIR_JSON.to_string(), jwe::encrypt(&key, FHIR_JSON, patient)),
            (
                HEALTH_CARD.to_string(),
                jwe::encrypt(&key, HEALTH_CARD, card.as_bytes()),
            ),
        ];
        let opened = open_files(&l, &files, 0).unwrap();
        assert!(opened.signed.is_empty());
        assert_eq!(opened.unsigned.len(), 2);
        assert!(
            opened.notes[0].contains("https://issuer.example"),
            "{:?}",
            opened.notes
        );
        let not_fhir = vec![(FHIR_JSON.to_string(), jwe::encrypt(&key, FHIR_JSON, b"[1,2]"))];
        assert!(matches!(open_files(&l, &not_fhir, 0), Err(ShlError::Content(_))));
    }
}
