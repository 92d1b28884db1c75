//! Sealing a share (patient side) and opening it (doctor side).
//!
//! A share is a signed grant plus a FHIR Bundle (collection) of exactly the
//! granted records, compressed and encrypted with age: to a fresh X25519 key that
//! travels in the link (bearer), to a passcode (bearer with passcode), or only to
//! the named provider's age key. Opening checks, before anything is shown: the
//! grant's signature and version, not-before and expiry, the recipient, that the
//! records decrypt, that there are exactly the granted records, and the SHA-256 of
//! each against the grant. This module is pure (no I/O) so the doctor's browser
//! runs the same checks; fetching from a relay and checking revocation there are
//! the caller's.

#[cfg(feature = "native")]
use std::io::Write;
#[cfg(feature = "native")]
use std::iter;

#[cfg(feature = "native")]
use ed25519_dalek::SigningKey;
use ed25519_dalek::VerifyingKey;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use self::age_open::{AgeError, Key};
#[cfg(feature = "native")]
use self::grant::SignedGrant;
use self::grant::{Grant, GrantError, GrantedRecord, Grantee, sha256_b64};
use self::link::{LinkError, Location, ShareLink};
use crate::fhir::{Description, Resource};
use crate::ids::WalletId;

pub(crate) mod age_open;
pub mod compress;
#[cfg(feature = "native")]
pub mod emergency;
pub mod grant;
pub mod link;
#[cfg(feature = "native")]
pub mod manage;
mod passcode;
pub mod patient;
pub mod shl;

pub use passcode::{MIN_CHOSEN_CHARS, Passcode, WeakPasscode, key_text};

/// scrypt work factor for passcode-locked shares: slow enough to make guessing a
/// passcode costly, fast enough for a phone's browser.
pub const PASSCODE_LOG_N: u8 = 15;

/// Largest share accepted, in every form: the ciphertext a doctor's client
/// reads from a relay, and the bundle decompressed (a defence against
/// compression bombs). One constant, stated in docs/link-format.md.
pub const MAX_BUNDLE: usize = 64 * 1024 * 1024;

/// Compressed bundles up to this size may travel in a QR code ...
#[cfg(feature = "native")]
const QR_SIZED: usize = 4 * 1024;
/// ... so they are encrypted this many times and the shortest file kept: age
/// adds a random "grease" stanza of 0 to 99 bytes to every file (to keep
/// parsers honest), and the shortest of eight usually saves a QR version. Each
/// try is a fresh, independent age encryption.
#[cfg(feature = "native")]
const QR_TRIES: usize = 8;

/// Why a share could not be made or opened. Each message is for the person in
/// front of the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareError {
    /// The link itself.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The grant.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The share names another provider.
    #[error("this share is for {name} ({registration}), not for you")]
    NotForYou {
        /// Who it is for.
        name: String,
        /// Their registration.
        registration: String,
    },
    /// A targeted share needs the provider's identity.
    #[error(
        "this share is for {name} ({registration}); open it with that provider's identity (amanat provider init)"
    )]
    NeedsIdentity {
        /// Who it is for.
        name: String,
        /// Their registration.
        registration: String,
    },
    /// A passcode-locked share.
    #[error("this share is locked with a passcode: ask the patient for it (--passcode)")]
    NeedsPasscode,
    /// The passcode does not open it.
    #[error("the passcode is wrong")]
    WrongPasscode,
    /// A bearer link without its key.
    #[error("the share link has no key for its records (it was altered)")]
    MissingKey,
    /// The ciphertext does not decrypt or decompress.
    #[error("the shared records were altered: they do not decrypt with this link's key")]
    Altered,
    /// Not the granted number of records.
    #[error("the share holds {found} records but the grant names {expected}: it was altered")]
    Count {
        /// In the grant.
        expected: usize,
        /// In the bundle.
        found: usize,
    },
    /// The records and grant of an offline share do not match the signature.
    #[error("the share was altered: its records or grant no longer match the patient's signature")]
    SignatureMismatch,
    /// A record's bytes differ from what the patient signed.
    #[error("record {id} does not match the SHA-256 the patient signed: it was altered")]
    RecordMismatch {
        /// The record id.
        id: String,
    },
    /// A record's provider signature does not verify over its bytes.
    #[error("record {id} carries a provider's signature that was refused: {message}")]
    ProviderSignature {
        /// The record id.
        id: String,
        /// Why.
        message: String,
    },
    /// A record's SMART Health Card does not verify, or does not hold it.
    #[error("record {id} carries a SMART Health Card that was refused: {message}")]
    HealthCard {
        /// The record id.
        id: String,
        /// Why.
        message: String,
    },
    /// What the relay holds under a request's id is not its answer.
    #[error("the share at the relay does not answer request {request}: refused")]
    NotTheAnswer {
        /// The request's id.
        request: String,
    },
    /// A shared record is not valid FHIR.
    #[error("record {id} is not valid FHIR: {message}")]
    InvalidRecord {
        /// The record id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// The link's relay address is not where a relay keeps this share.
    #[error(
        "the link's relay address is not a relay's address for this share (…/v1/shares/{id} over http or https): refused before fetching anything"
    )]
    RelayAddress {
        /// The grant id the address should end with.
        id: String,
    },
    /// Nothing selected.
    #[error("no records were selected to share")]
    Empty,
    /// Encryption failed.
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

/// A record to share: the exact stored bytes.
#[derive(Debug, Clone)]
pub struct ShareInput {
    /// FHIR resource type.
    pub resource_type: String,
    /// The resource's JSON bytes.
    pub bytes: Vec<u8>,
    /// Whom the file it came from was about, in words, when that is not the
    /// patient sharing it (a record imported anyway into their profile).
    pub about: Option<String>,
    /// The signature of the provider who wrote it, detached
    /// ([`crate::provider::signed`]), when it came signed.
    pub signature: Option<String>,
    /// The SMART Health Card it came in, when the wallet kept it and still
    /// trusts its issuer.
    pub card: Option<CardProof>,
}

/// A SMART Health Card beside one of its records in a share: the card as
/// issued, and the issuer's key that signed it, so the receiver verifies
/// the card and finds the record in it.
#[derive(Debug, Clone)]
pub struct CardProof {
    /// The card's compact JWS.
    pub jws: String,
    /// Its issuer, with the signing key alone ([`crate::shc::signer_of`]).
    pub issuer: crate::shc::Issuer,
}

/// Who issued a shared record's SMART Health Card, its signature verified
/// over the card and the record found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedBy {
    /// The issuer's name and address, as the patient's wallet trusts it.
    pub issuer: String,
    /// The issuer's address (`iss`).
    pub iss: String,
    /// The id of the key that signed the card (its thumbprint).
    pub kid: String,
}

/// The FHIR extensions on a shared Bundle entry that carry the SMART Health
/// Card the record came in (its JWS) and its issuer with the signing key
/// (JSON: `iss`, `name`, `keys`); the doctor's client verifies both.
pub const CARD_EXTENSION: &str = "urn:amanat:health-card";
/// See [`CARD_EXTENSION`].
pub const CARD_ISSUER_EXTENSION: &str = "urn:amanat:health-card-issuer";

/// The FHIR extension on a shared Bundle entry that says whom the record's
/// file was about ([`ShareInput::about`]); the grant signs the same words.
pub const ORIGIN_EXTENSION: &str = "urn:amanat:patient-of-origin";

/// The FHIR extension on a shared Bundle entry that carries the signature of
/// the provider who wrote the record ([`ShareInput::signature`]); the doctor's
/// client verifies it over the entry's bytes.
pub const SIGNATURE_EXTENSION: &str = "urn:amanat:provider-signature";

/// Who can open the records.
#[cfg(feature = "native")]
pub enum Lock {
    /// A fresh key carried in the link.
    Bearer,
    /// A passcode the patient tells the doctor.
    Passcode(SecretString),
    /// Only this provider's age key.
    Provider(age::x25519::Recipient),
}

/// A sealed share, ready to be put in a link or uploaded to a relay.
#[cfg(feature = "native")]
pub struct SealedShare {
    /// The grant.
    pub grant: Grant,
    /// Its signature.
    pub signed: SignedGrant,
    /// The age-encrypted, compressed bundle.
    pub ciphertext: Vec<u8>,
    /// The key to put in a bearer link.
    pub key: Option<Zeroizing<[u8; 32]>>,
    /// Whether a passcode locks it.
    pub passcode: bool,
}

#[cfg(feature = "native")]
impl SealedShare {
    /// The link for this share: records inline, or at `relay_url`. The grant's
    /// record list is always detached (rebuilt from the bundle on receipt), so
    /// even a relay link for hundreds of records stays a small QR code.
    pub fn link(&self, relay_url: Option<&str>, patient_key: &VerifyingKey) -> ShareLink {
        ShareLink {
            patient_key: patient_key.to_bytes(),
            grant: self.grant.clone(),
            signature: self.signed.signature,
            detached: true,
            key: self.key.clone(),
            passcode: self.passcode,
            location: match relay_url {
                Some(url) => Location::Relay(url.to_string()),
                None => Location::Inline(self.ciphertext.clone()),
            },
        }
    }
}

/// The bundle that is encrypted: entries in the grant's order, each only its
/// resource. No `fullUrl`, entry ids or timestamp: in a QR code each random id
/// would cost about 15 incompressible bytes, and the grant already says when.
#[derive(Serialize)]
pub(crate) struct OutBundle {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    #[serde(rename = "type")]
    bundle_type: &'static str,
    entry: Vec<OutEntry>,
    /// A SMART Health Link's bundle carries the signed grant here ([`shl`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<shl::BundleSignature>,
}

#[derive(Serialize)]
pub(crate) struct OutEntry {
    resource: Box<RawValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
}

/// A FHIR extension with a string value.
#[derive(Serialize, Deserialize)]
pub(crate) struct Extension {
    url: String,
    #[serde(rename = "valueString")]
    value: Option<String>,
}

impl OutEntry {
    /// An entry of `resource` alone.
    pub(crate) fn of(resource: Box<RawValue>) -> OutEntry {
        OutEntry {
            resource,
            extension: Vec::new(),
        }
    }
}

/// A granted record's id: its position in the share, from 1. The wallet keeps
/// which of its records each position is (`MadeShare::record_ids`); its own
/// record ids never leave it.
pub(crate) fn position_id(index: usize) -> String {
    (index + 1).to_string()
}

/// Seals records under a grant. `grant.records` is filled in here from `inputs`,
/// in their order.
#[cfg(feature = "native")]
pub fn seal(
    inputs: &[ShareInput],
    grant: Grant,
    key: &SigningKey,
    lock: Lock,
) -> Result<SealedShare, ShareError> {
    seal_bundle(inputs, grant, key, lock, false)
}

/// Seals records as the answer to a consent request, to the provider who
/// asked: the bundle carries the signed grant too (`Bundle.signature`, as
/// a SMART Health Link's does), so the provider opens it from the relay by
/// the request's id alone, with no link ([`open_answer`]).
#[cfg(feature = "native")]
pub fn seal_answer(
    inputs: &[ShareInput],
    grant: Grant,
    key: &SigningKey,
    provider: age::x25519::Recipient,
) -> Result<SealedShare, ShareError> {
    seal_bundle(inputs, grant, key, Lock::Provider(provider), true)
}

#[cfg(feature = "native")]
fn seal_bundle(
    inputs: &[ShareInput],
    mut grant: Grant,
    key: &SigningKey,
    lock: Lock,
    carry_grant: bool,
) -> Result<SealedShare, ShareError> {
    // An answer carrying its grant may carry no record: a registration at a
    // facility (Scan & Share) gives only who the patient is, as the grant says.
    if inputs.is_empty() && !carry_grant {
        return Err(ShareError::Empty);
    }
    let (records, entry) = granted(inputs)?;
    grant.records = records;
    let signed = SignedGrant::sign(&grant, key);
    grant.wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
    let bundle = OutBundle {
        resource_type: "Bundle",
        bundle_type: "collection",
        entry,
        signature: carry_grant.then(|| shl::BundleSignature::of(&grant, &signed)),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&bundle).map_err(|e| ShareError::Encrypt(e.to_string()))?);
    let compressed = Zeroizing::new(compress::compress(&plain));
    let tries = if compressed.len() <= QR_SIZED { QR_TRIES } else { 1 };
    let (ciphertext, key_bytes, passcode) = match lock {
        Lock::Bearer => {
            let (ct, identity) = shortest(tries, || {
                let identity = age::x25519::Identity::generate();
                Ok((encrypt(&compressed, &identity.to_public())?, identity))
            })?;
            (ct, Some(identity_bytes(&identity)?), false)
        }
        Lock::Passcode(pass) => {
            // scrypt stanzas carry no grease, and each try would cost a second.
            let mut r = age::scrypt::Recipient::new(passcode::key_text(&pass));
            r.set_work_factor(PASSCODE_LOG_N);
            (encrypt(&compressed, &r)?, None, true)
        }
        Lock::Provider(recipient) => {
            let (ct, ()) = shortest(tries, || Ok((encrypt(&compressed, &recipient)?, ())))?;
            (ct, None, false)
        }
    };
    Ok(SealedShare {
        grant,
        signed,
        ciphertext,
        key: key_bytes,
        passcode,
    })
}

/// The grant's record list (positions, types, SHA-256 of the exact bytes) and
/// the bundle entries for `inputs`, in their order.
pub(crate) fn granted(inputs: &[ShareInput]) -> Result<(Vec<GrantedRecord>, Vec<OutEntry>), ShareError> {
    let records = inputs
        .iter()
        .enumerate()
        .map(|(i, r)| GrantedRecord {
            id: position_id(i),
            resource_type: r.resource_type.clone(),
            sha256: sha256_b64(&r.bytes),
            about: r.about.clone(),
        })
        .collect();
    let mut entry = Vec::with_capacity(inputs.len());
    for r in inputs {
        let text = String::from_utf8(r.bytes.clone())
            .map_err(|_| ShareError::Encrypt("a record is not UTF-8".into()))?;
        let raw = RawValue::from_string(text).map_err(|e| ShareError::Encrypt(e.to_string()))?;
        let card = r.card.as_ref().map(|c| c.jws.clone());
        let issuer = r
            .card
            .as_ref()
            .map(|c| serde_json::to_string(&c.issuer).unwrap_or_default());
        let extension = [
            (ORIGIN_EXTENSION, &r.about),
            (SIGNATURE_EXTENSION, &r.signature),
            (CARD_EXTENSION, &card),
            (CARD_ISSUER_EXTENSION, &issuer),
        ]
        .into_iter()
        .filter_map(|(url, value)| {
            value.as_ref().map(|v| Extension {
                url: url.into(),
                value: Some(v.clone()),
            })
        })
        .collect();
        entry.push(OutEntry {
            resource: raw,
            extension,
        });
    }
    Ok((records, entry))
}

/// The shortest ciphertext (with what made it) of `tries` calls of `encrypt_once`.
#[cfg(feature = "native")]
fn shortest<T>(
    tries: usize,
    mut encrypt_once: impl FnMut() -> Result<(Vec<u8>, T), ShareError>,
) -> Result<(Vec<u8>, T), ShareError> {
    let mut best = encrypt_once()?;
    for _ in 1..tries {
        let next = encrypt_once()?;
        if next.0.len() < best.0.len() {
            best = next;
        }
    }
    Ok(best)
}

#[cfg(feature = "native")]
fn encrypt(plain: &[u8], recipient: &dyn age::Recipient) -> Result<Vec<u8>, ShareError> {
    let err = |e: &dyn std::fmt::Display| ShareError::Encrypt(e.to_string());
    let encryptor = age::Encryptor::with_recipients(iter::once(recipient)).map_err(|e| err(&e))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = encryptor.wrap_output(&mut out).map_err(|e| err(&e))?;
    w.write_all(plain).map_err(|e| err(&e))?;
    w.finish().map_err(|e| err(&e))?;
    Ok(out)
}

/// The 32 secret bytes of an age X25519 identity.
#[cfg(feature = "native")]
fn identity_bytes(identity: &age::x25519::Identity) -> Result<Zeroizing<[u8; 32]>, ShareError> {
    let text = identity.to_string();
    let (_, data) = bech32::decode(text.expose_secret()).map_err(|e| ShareError::Encrypt(e.to_string()))?;
    let data = Zeroizing::new(data);
    let mut out = Zeroizing::new([0u8; 32]);
    if data.len() != 32 {
        return Err(ShareError::Encrypt("unexpected age key length".into()));
    }
    out.copy_from_slice(&data);
    Ok(out)
}

/// A provider's age X25519 secret key: it opens the shares made to them.
pub struct ProviderKey(Zeroizing<[u8; 32]>);

impl ProviderKey {
    /// The key of an age identity.
    #[cfg(feature = "native")]
    pub fn of(identity: &age::x25519::Identity) -> Result<ProviderKey, ShareError> {
        identity_bytes(identity).map(ProviderKey)
    }

    /// Its age recipient (`age1…`), which a grant to the provider names.
    pub fn recipient(&self) -> String {
        age_open::x25519_recipient(&self.0)
    }
}

/// One verified record.
#[derive(Debug, Clone)]
pub struct ReceivedRecord {
    /// The granted record.
    pub granted: GrantedRecord,
    /// The resource.
    pub resource: Resource,
    /// What the wallet makes of it (title, date, ABDM type).
    pub description: Description,
    /// Who signed it, when it came with its provider's signature, verified
    /// over its bytes.
    pub signer: Option<crate::provider::signed::Signer>,
    /// That signature, detached (`header..signature`), to keep as evidence.
    pub signature: Option<String>,
    /// Who issued the SMART Health Card it came in, when it came with one,
    /// verified.
    pub issued_by: Option<IssuedBy>,
}

/// A verified, decrypted share.
#[derive(Debug, Clone)]
pub struct Received {
    /// The grant.
    pub grant: Grant,
    /// The patient's public key.
    pub patient_key: VerifyingKey,
    /// The patient's wallet ID (fingerprint of that key).
    pub wallet_id: WalletId,
    /// The records, in the grant's order.
    pub records: Vec<ReceivedRecord>,
}

/// Checks a link's claims before anything is fetched or decrypted: not-before,
/// expiry and the recipient (`provider_age`: the receiving provider's age
/// recipient). The signature is verified by [`verify_link`] or [`open`].
pub fn precheck(link: &ShareLink, now: i64, provider_age: Option<&str>) -> Result<(), ShareError> {
    link.grant.check_time(now)?;
    if let Location::Relay(url) = &link.location {
        check_relay_url(url, &link.grant.jti)?;
    }
    if let Grantee::Provider {
        name,
        registration,
        age,
        ..
    } = &link.grant.to
    {
        match provider_age {
            None => {
                return Err(ShareError::NeedsIdentity {
                    name: name.clone(),
                    registration: registration.clone(),
                });
            }
            Some(mine) if mine != age => {
                return Err(ShareError::NotForYou {
                    name: name.clone(),
                    registration: registration.clone(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The relay address is not covered by the signature (the relay makes it after
/// the grant is signed), and a wallet-made link's signature can only be checked
/// with its records, after the fetch. So before anything is fetched the address
/// must have the one shape a relay gives a share, `http(s)://HOST/…/v1/shares/ID`
/// with this grant's id, no credentials, query or fragment: a forged code can
/// then make a doctor's device ask only for a share at some relay, never send
/// any other request (an SSRF to a router's admin page, say).
fn check_relay_url(url: &str, jti: &str) -> Result<(), ShareError> {
    let refused = || ShareError::RelayAddress { id: jti.to_string() };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(refused)?;
    let (authority, path) = rest.split_once('/').ok_or_else(refused)?;
    let clean = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"@?#\\%".contains(&b));
    let share_path = path
        .strip_suffix(jti)
        .is_some_and(|p| p == "v1/shares/" || p.ends_with("/v1/shares/"));
    if !clean(authority) || !clean(path) || !share_path || !crate::share::grant::valid_grant_id(jti) {
        return Err(refused());
    }
    Ok(())
}

/// Why an address is not one Amanat sends a share's key or passcode to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressRefusal {
    /// Neither `https://` nor `http://`.
    NotWeb,
    /// Plain `http://` to another machine.
    PlainHttp,
}

/// What follows the scheme of an `https://` address, or of an `http://` one
/// on this machine (`127.0.0.1`, `localhost`, `[::1]`, for trying things
/// out): a page or server that receives a share's key must be reached
/// unaltered. The host is found by stripping a numeric port, so
/// `http://[::1]evil.example/` is not taken for loopback.
pub(crate) fn web_address(text: &str) -> Result<&str, AddressRefusal> {
    if let Some(rest) = text.strip_prefix("https://") {
        return Ok(rest);
    }
    let rest = text.strip_prefix("http://").ok_or(AddressRefusal::NotWeb)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(rest)
    } else {
        Err(AddressRefusal::PlainHttp)
    }
}

/// Verifies a link's grant before fetching, when the link carries its record
/// list (`detached == false`): signature, version, time and recipient. Links this
/// wallet makes are detached; their signature is checked by [`open`].
pub fn verify_link(
    link: &ShareLink,
    now: i64,
    provider_age: Option<&str>,
) -> Result<(Grant, VerifyingKey), ShareError> {
    precheck(link, now, provider_age)?;
    if link.detached {
        return Err(ShareError::Link(LinkError::Malformed(
            "this link's grant is verified with its records".into(),
        )));
    }
    Ok(link.signed_grant(None)?.verify()?)
}

/// Opens a share: verifies everything and returns the records.
///
/// `ciphertext` is the inline bundle or what the relay returned; `provider` is
/// the receiving provider's age identity for a targeted share.
pub fn open(
    link: &ShareLink,
    ciphertext: &[u8],
    now: i64,
    provider: Option<&ProviderKey>,
    passcode: Option<&SecretString>,
) -> Result<Received, ShareError> {
    let provider_age = provider.map(ProviderKey::recipient);
    precheck(link, now, provider_age.as_deref())?;
    let compressed = match &link.grant.to {
        Grantee::Provider { .. } => {
            let key = provider.ok_or(ShareError::MissingKey)?;
            age_open::decrypt(ciphertext, Key::X25519(&key.0)).map_err(|_| ShareError::Altered)?
        }
        Grantee::Bearer if link.passcode => {
            let pass = passcode.ok_or(ShareError::NeedsPasscode)?;
            let text = passcode::key_text(pass);
            let key = Key::Passphrase {
                text: text.expose_secret().as_bytes(),
                max_log_n: PASSCODE_LOG_N + 2,
            };
            age_open::decrypt(ciphertext, key).map_err(|e| match e {
                AgeError::NoMatch => ShareError::WrongPasscode,
                _ => ShareError::Altered,
            })?
        }
        Grantee::Bearer => {
            let key = link.key.as_ref().ok_or(ShareError::MissingKey)?;
            age_open::decrypt(ciphertext, Key::X25519(key)).map_err(|_| ShareError::Altered)?
        }
    };
    let plain =
        Zeroizing::new(compress::decompress(&compressed, MAX_BUNDLE).map_err(|_| ShareError::Altered)?);
    let entries = bundle_entries(&plain)?;
    let (grant, patient_key) = if link.detached {
        // The record list is rebuilt from what arrived; the signature then proves
        // it is what the patient signed.
        // Only each entry's `resourceType` is read before the signature is
        // checked; the whole resource is parsed after, in `check_records`.
        #[derive(Deserialize)]
        struct TypeOnly<'a> {
            #[serde(rename = "resourceType", borrow)]
            resource_type: std::borrow::Cow<'a, str>,
        }
        let records = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let typed: TypeOnly<'_> =
                    serde_json::from_slice(&entry.bytes).map_err(|_| ShareError::Altered)?;
                Ok(GrantedRecord {
                    id: position_id(i),
                    resource_type: typed.resource_type.into_owned(),
                    sha256: sha256_b64(&entry.bytes),
                    about: entry.about.clone(),
                })
            })
            .collect::<Result<Vec<_>, ShareError>>()?;
        link.signed_grant(Some(records))?.verify().map_err(|e| match e {
            GrantError::BadSignature => ShareError::SignatureMismatch,
            other => ShareError::Grant(other),
        })?
    } else {
        link.signed_grant(None)?.verify()?
    };
    let records = check_records(&grant, &entries)?;
    Ok(Received {
        wallet_id: WalletId::from_public_key(&patient_key),
        grant,
        patient_key,
        records,
    })
}

/// Opens the answer to a consent request ([`seal_answer`]), fetched from a
/// relay by the request's id: decrypted with the provider's age key, its
/// grant read from the bundle and verified, and it must be the answer to
/// `request`, addressed to the provider whose signing key is `provider_key`.
pub fn open_answer(
    ciphertext: &[u8],
    request: &str,
    identity: &ProviderKey,
    provider_key: &VerifyingKey,
    now: i64,
) -> Result<Received, ShareError> {
    let compressed =
        age_open::decrypt(ciphertext, Key::X25519(&identity.0)).map_err(|_| ShareError::Altered)?;
    let plain =
        Zeroizing::new(compress::decompress(&compressed, MAX_BUNDLE).map_err(|_| ShareError::Altered)?);
    let received = shl::signed_bundle(&plain, now)?.ok_or(ShareError::NotTheAnswer {
        request: request.to_string(),
    })?;
    use base64::Engine as _;
    let for_provider = match &received.grant.to {
        Grantee::Provider { key, .. } => {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(key)
                .ok()
                .as_deref()
                == Some(provider_key.as_bytes().as_slice())
        }
        Grantee::Bearer => false,
    };
    if received.grant.jti != request || !for_provider {
        return Err(ShareError::NotTheAnswer {
            request: request.to_string(),
        });
    }
    Ok(received)
}

/// The exact bytes of the bundle's resources, in order.
pub(crate) fn bundle_entries(plain: &[u8]) -> Result<Vec<InEntry>, ShareError> {
    #[derive(Deserialize)]
    struct InBundle<'a> {
        #[serde(borrow, default)]
        entry: Vec<Wire<'a>>,
    }
    #[derive(Deserialize)]
    struct Wire<'a> {
        #[serde(borrow)]
        resource: &'a RawValue,
        #[serde(default)]
        extension: Vec<Extension>,
    }
    let bundle: InBundle<'_> = serde_json::from_slice(plain).map_err(|_| ShareError::Altered)?;
    Ok(bundle
        .entry
        .into_iter()
        .map(|e| {
            let value = |url: &str| {
                e.extension
                    .iter()
                    .find(|x| x.url == url)
                    .and_then(|x| x.value.clone())
            };
            InEntry {
                bytes: e.resource.get().as_bytes().to_vec(),
                about: value(ORIGIN_EXTENSION),
                signature: value(SIGNATURE_EXTENSION),
                card: value(CARD_EXTENSION).zip(value(CARD_ISSUER_EXTENSION)),
            }
        })
        .collect())
}

/// One entry of a shared bundle: the resource's exact bytes, whom its file
/// was about when the entry says so ([`ORIGIN_EXTENSION`]), and its
/// provider's signature when it has one ([`SIGNATURE_EXTENSION`]).
pub(crate) struct InEntry {
    pub(crate) bytes: Vec<u8>,
    pub(crate) about: Option<String>,
    pub(crate) signature: Option<String>,
    /// The card's JWS and its issuer's JSON ([`CARD_EXTENSION`]).
    pub(crate) card: Option<(String, String)>,
}

/// A shared card, opened: who issued it (its signature verified with the
/// issuer's key it came with), and the exact bytes of its resources, read as
/// the wallet read them at import.
type OpenedCard = Result<(IssuedBy, Vec<Vec<u8>>), String>;

fn open_card(jws: &str, issuer: &str) -> OpenedCard {
    let issuer: crate::shc::Issuer =
        serde_json::from_str(issuer).map_err(|_| "its issuer's key is not a JSON key set".to_string())?;
    let card = crate::shc::verify_signature(jws, &issuer).map_err(|e| e.to_string())?;
    let held = crate::fhir::read_resources(&card.bundle)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| r.resource.to_bytes())
        .collect();
    let by = IssuedBy {
        issuer: card.issuer.label(),
        iss: card.issuer.iss,
        kid: card.kid,
    };
    Ok((by, held))
}

/// Who issued a shared record's card, once the card verifies and holds the
/// record's exact bytes. A card beside several of its records is opened
/// once (`opened` keeps each card by its JWS and issuer).
fn card_issuer<'a>(
    opened: &mut std::collections::HashMap<(&'a str, &'a str), OpenedCard>,
    (jws, issuer): &'a (String, String),
    bytes: &[u8],
) -> Result<IssuedBy, String> {
    let (by, held) = opened
        .entry((jws, issuer))
        .or_insert_with(|| open_card(jws, issuer))
        .as_ref()
        .map_err(Clone::clone)?;
    if !held.iter().any(|h| h == bytes) {
        return Err("the card does not hold this record".into());
    }
    Ok(by.clone())
}

pub(crate) fn check_records(grant: &Grant, entries: &[InEntry]) -> Result<Vec<ReceivedRecord>, ShareError> {
    if entries.len() != grant.records.len() {
        return Err(ShareError::Count {
            expected: grant.records.len(),
            found: entries.len(),
        });
    }
    let mut out = Vec::with_capacity(grant.records.len());
    let mut cards = std::collections::HashMap::new();
    for (granted, entry) in grant.records.iter().zip(entries) {
        let bytes = &entry.bytes;
        // The words on the entry must be the ones the patient signed.
        if sha256_b64(bytes) != granted.sha256 || entry.about != granted.about {
            return Err(ShareError::RecordMismatch {
                id: granted.id.clone(),
            });
        }
        let invalid = |e: crate::fhir::FhirError| ShareError::InvalidRecord {
            id: granted.id.clone(),
            message: e.to_string(),
        };
        let resource = Resource::from_slice(bytes).map_err(invalid)?;
        if resource.resource_type() != granted.resource_type {
            return Err(ShareError::RecordMismatch {
                id: granted.id.clone(),
            });
        }
        let description = resource.describe().map_err(invalid)?;
        // A provider's signature that does not verify over these bytes is
        // refused, not dropped: the doctor must not see a claim that fails.
        let signer = entry
            .signature
            .as_deref()
            .map(|s| crate::provider::signed::verify_detached(s, bytes))
            .transpose()
            .map_err(|e| ShareError::ProviderSignature {
                id: granted.id.clone(),
                message: e.to_string(),
            })?;
        // So is a health card that does not verify or does not hold the record.
        let issued_by = entry
            .card
            .as_ref()
            .map(|card| card_issuer(&mut cards, card, bytes))
            .transpose()
            .map_err(|message| ShareError::HealthCard {
                id: granted.id.clone(),
                message,
            })?;
        out.push(ReceivedRecord {
            granted: granted.clone(),
            resource,
            description,
            signer,
            signature: entry.signature.clone(),
            issued_by,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::grant::{AccessMode, Purpose};

    /// The demo patient's first `n` records, as a share takes them.
    pub(super) fn inputs_of(n: usize) -> Vec<ShareInput> {
        crate::demo::family(160, 1_790_000_000, 4)
            .owner
            .into_iter()
            .take(n)
            .map(|v| {
                let r = Resource::from_value(v).unwrap();
                ShareInput {
                    resource_type: r.resource_type().into(),
                    bytes: r.to_bytes(),
                    about: None,
                    signature: None,
                    card: None,
                }
            })
            .collect()
    }

    fn inputs() -> Vec<ShareInput> {
        inputs_of(20)
    }

    fn grant(to: Grantee) -> Grant {
        Grant {
            v: 1,
            jti: "g".into(),
            wallet: "w".into(),
            patient: "Ayesha".into(),
            subject: None,
            to,
            purpose: Purpose::CareManagement,
            mode: AccessMode::View,
            iat: 1_000,
            nbf: 1_000,
            exp: 10_000,
            uses: None,
            records: vec![],
        }
    }

    fn ciphertext(link: &ShareLink) -> Vec<u8> {
        match &link.location {
            Location::Inline(b) => b.clone(),
            Location::Relay(_) => unreachable!(),
        }
    }

    #[test]
    fn the_shortest_encryption_is_kept() {
        let mut lengths = [5usize, 3, 4, 3].into_iter().enumerate();
        let (ct, which) = shortest(4, || {
            let (i, n) = lengths.next().unwrap();
            Ok((vec![0; n], i))
        })
        .unwrap();
        assert_eq!((ct.len(), which), (3, 1), "the first of the shortest");
        assert!(lengths.next().is_none(), "all four were tried");
    }

    #[test]
    fn bearer_share_round_trips_through_link_text() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let sealed = seal(&inputs(), grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let text = sealed.link(None, &key.verifying_key()).encode();
        let link = ShareLink::decode(&text).unwrap();
        let got = open(&link, &ciphertext(&link), 2_000, None, None).unwrap();
        assert_eq!(got.records.len(), 20);
        assert_eq!(got.wallet_id, WalletId::from_public_key(&key.verifying_key()));
        assert_eq!(got.records[0].resource.to_bytes(), inputs()[0].bytes);
        let ids: Vec<_> = got.records.iter().map(|r| r.granted.id.as_str()).collect();
        assert_eq!(ids[..3], ["1", "2", "3"], "records are named by position");
        assert!(matches!(
            open(&link, &ciphertext(&link), 20_000, None, None),
            Err(ShareError::Grant(GrantError::Expired(_)))
        ));
    }

    #[test]
    fn passcode_and_provider_locks() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let sealed = seal(
            &inputs()[..2],
            grant(Grantee::Bearer),
            &key,
            Lock::Passcode(SecretString::from("4417")),
        )
        .unwrap();
        let link = sealed.link(None, &key.verifying_key());
        assert!(link.key.is_none());
        assert_eq!(
            open(&link, &sealed.ciphertext, 2_000, None, None).unwrap_err(),
            ShareError::NeedsPasscode
        );
        assert_eq!(
            open(
                &link,
                &sealed.ciphertext,
                2_000,
                None,
                Some(&SecretString::from("1234"))
            )
            .unwrap_err(),
            ShareError::WrongPasscode
        );
        assert!(
            open(
                &link,
                &sealed.ciphertext,
                2_000,
                None,
                Some(&SecretString::from("4417"))
            )
            .is_ok()
        );

        let doctor = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let to = Grantee::Provider {
            name: "Dr. Rao".into(),
            registration: "PMDC-1".into(),
            key: "k".into(),
            age: doctor.to_public().to_string(),
            registry: None,
        };
        let sealed = seal(
            &inputs()[..2],
            grant(to),
            &key,
            Lock::Provider(doctor.to_public()),
        )
        .unwrap();
        let link = sealed.link(None, &key.verifying_key());
        assert!(link.key.is_none(), "a targeted link carries no key");
        assert!(matches!(
            open(&link, &sealed.ciphertext, 2_000, None, None),
            Err(ShareError::NeedsIdentity { .. })
        ));
        assert!(matches!(
            open(
                &link,
                &sealed.ciphertext,
                2_000,
                Some(&ProviderKey::of(&other).unwrap()),
                None
            ),
            Err(ShareError::NotForYou { .. })
        ));
        assert_eq!(
            open(
                &link,
                &sealed.ciphertext,
                2_000,
                Some(&ProviderKey::of(&doctor).unwrap()),
                None
            )
            .unwrap()
            .records
            .len(),
            2
        );
    }

    #[test]
    fn altered_records_are_refused() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let sealed = seal(&inputs()[..3], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let link = sealed.link(None, &key.verifying_key());
        let mut ct = sealed.ciphertext.clone();
        let n = ct.len();
        ct[n - 20] ^= 1;
        assert_eq!(
            open(&link, &ct, 2_000, None, None).unwrap_err(),
            ShareError::Altered
        );
        // Records swapped for others under a correctly signed grant of the originals.
        let other = seal(&inputs()[3..6], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let mut mixed = other.link(None, &key.verifying_key());
        mixed.signature = sealed.signed.signature;
        assert_eq!(
            open(&mixed, &other.ciphertext, 2_000, None, None).unwrap_err(),
            ShareError::SignatureMismatch
        );
        // A link that carries its record list catches a swapped bundle record by record.
        let mut relay = other.link(Some("https://relay.example/v1/shares/g"), &key.verifying_key());
        relay.grant = sealed.grant.clone();
        relay.signature = sealed.signed.signature;
        relay.detached = false;
        assert!(matches!(
            open(&relay, &other.ciphertext, 2_000, None, None),
            Err(ShareError::RecordMismatch { .. })
        ));
    }

    #[test]
    fn only_the_resource_type_is_read_before_the_signature_is_checked() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let signed = seal(&inputs()[..1], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        // A forger's bundle: an entry the full FHIR parser refuses (its id is
        // invalid), under a signature of other records. It used to be parsed
        // in full and refused as "altered" before the signature was looked at.
        let forged = ShareInput {
            resource_type: "Observation".into(),
            bytes: br#"{"resourceType":"Observation","id":"not a FHIR id!"}"#.to_vec(),
            about: None,
            signature: None,
            card: None,
        };
        let sealed = seal(&[forged], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let mut link = sealed.link(None, &key.verifying_key());
        link.signature = signed.signed.signature;
        assert_eq!(
            open(&link, &sealed.ciphertext, 2_000, None, None).unwrap_err(),
            ShareError::SignatureMismatch
        );
    }

    #[test]
    fn whom_a_records_file_was_about_is_signed_and_cannot_be_dropped_or_changed() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let mut record = inputs()[0].clone();
        record.about = Some("Ayesha Khan, born 1968-04-12, CNIC 35202-1234567-4".into());
        let honest = seal(
            std::slice::from_ref(&record),
            grant(Grantee::Bearer),
            &key,
            Lock::Bearer,
        )
        .unwrap();
        let link = honest.link(None, &key.verifying_key());
        let got = open(&link, &honest.ciphertext, 2_000, None, None).unwrap();
        assert_eq!(got.records[0].granted.about, record.about);
        // Whoever re-seals the same record without the warning, or with other
        // words, under the patient's signature is caught.
        for about in [None, Some("Zara Khan".to_string())] {
            let forged = ShareInput {
                about,
                signature: None,
                card: None,
                ..record.clone()
            };
            let sealed = seal(&[forged], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
            let mut link = sealed.link(None, &key.verifying_key());
            link.signature = honest.signed.signature;
            assert_eq!(
                open(&link, &sealed.ciphertext, 2_000, None, None).unwrap_err(),
                ShareError::SignatureMismatch
            );
        }
    }

    #[test]
    fn a_providers_signature_travels_with_its_record_and_is_verified_again() {
        use base64::Engine as _;
        let key = SigningKey::from_bytes(&[5; 32]);
        let doctor = SigningKey::from_bytes(&[7; 32]);
        let card = crate::provider::ProviderCard {
            v: 1,
            name: "Dr. Imran Rao".into(),
            registration: "PMDC-12345-P".into(),
            key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doctor.verifying_key().as_bytes()),
            age: "age1p52ek0kxwul8d39696jsvnld5222kfv8qz92s84655n698xweszsaxkud7".into(),
        };
        let record = inputs()[0].clone();
        let resource = Resource::from_slice(&record.bytes).unwrap();
        let text = crate::provider::signed::sign(&resource, &doctor, &card, "PMDC", 0);
        let detached = crate::provider::signed::open(text.as_bytes()).unwrap().detached;
        let share = |signature: Option<String>| {
            let input = ShareInput {
                signature,
                ..record.clone()
            };
            let sealed = seal(&[input], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
            open(
                &sealed.link(None, &key.verifying_key()),
                &sealed.ciphertext,
                2_000,
                None,
                None,
            )
        };
        let got = share(Some(detached.clone())).unwrap();
        let signer = got.records[0].signer.as_ref().unwrap();
        assert_eq!(signer.to_string(), "Dr. Imran Rao (PMDC-12345-P, PMDC)");
        // Unsigned records say nothing; a signature over other bytes (one
        // from another record) is refused with its own message.
        assert!(share(None).unwrap().records[0].signer.is_none());
        let other = Resource::from_slice(&inputs()[1].bytes).unwrap();
        let text = crate::provider::signed::sign(&other, &doctor, &card, "PMDC", 0);
        let misplaced = crate::provider::signed::open(text.as_bytes()).unwrap().detached;
        assert!(matches!(
            share(Some(misplaced)).unwrap_err(),
            ShareError::ProviderSignature { id, .. } if id == "1"
        ));
    }

    #[test]
    fn a_health_cards_issuer_travels_with_its_records_and_is_verified_again() {
        // The specification's example card and issuer key (tests/vectors/shc).
        let jws = include_str!("../tests/vectors/shc/example-chunked.jws.txt")
            .trim()
            .to_string();
        let issuer = crate::shc::Issuer::from_jwks(
            "https://spec.smarthealth.cards/examples/issuer",
            Some("SMART example".into()),
            include_bytes!("../tests/vectors/shc/issuer.jwks.json"),
        )
        .unwrap();
        let signer = crate::shc::signer_of(&jws, std::slice::from_ref(&issuer)).unwrap();
        assert_eq!(signer.keys.len(), 1, "the signing key alone travels");
        let card = crate::shc::verify(&jws, std::slice::from_ref(&issuer), 1_796_083_200).unwrap();
        let first = crate::fhir::read_resources(&card.bundle).unwrap().remove(1);
        let key = SigningKey::from_bytes(&[5; 32]);
        let share = |jws: &str, issuer: &crate::shc::Issuer, record: &Resource| {
            let input = ShareInput {
                resource_type: record.resource_type().into(),
                bytes: record.to_bytes(),
                about: None,
                signature: None,
                card: Some(CardProof {
                    jws: jws.to_string(),
                    issuer: issuer.clone(),
                }),
            };
            let sealed = seal(&[input], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
            open(
                &sealed.link(None, &key.verifying_key()),
                &sealed.ciphertext,
                2_000,
                None,
                None,
            )
        };
        let got = share(&jws, &signer, &first.resource).unwrap();
        let issued = got.records[0].issued_by.as_ref().unwrap();
        assert_eq!(issued.iss, "https://spec.smarthealth.cards/examples/issuer");
        assert_eq!(issued.kid, card.kid);
        // Two records of one card: the card is opened once, each found in it.
        let both: Vec<ShareInput> = crate::fhir::read_resources(&card.bundle)
            .unwrap()
            .iter()
            .take(2)
            .map(|r| ShareInput {
                resource_type: r.resource.resource_type().into(),
                bytes: r.resource.to_bytes(),
                about: None,
                signature: None,
                card: Some(CardProof {
                    jws: jws.clone(),
                    issuer: signer.clone(),
                }),
            })
            .collect();
        let sealed = seal(&both, grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let got = open(
            &sealed.link(None, &key.verifying_key()),
            &sealed.ciphertext,
            2_000,
            None,
            None,
        )
        .unwrap();
        assert!(got.records.iter().all(|r| r.issued_by.as_ref() == Some(issued)));
        // A record the card does not hold, or another key: refused.
        let refused = |r: Result<Received, ShareError>| match r {
            Err(ShareError::HealthCard { message, .. }) => message,
            other => panic!("{:?}", other.map(|g| g.records.len())),
        };
        let unrelated = Resource::from_slice(&inputs()[0].bytes).unwrap();
        assert_eq!(
            refused(share(&jws, &signer, &unrelated)),
            "the card does not hold this record"
        );
        let mut wrong = signer.clone();
        wrong.keys[0].kid = "not-the-kid".into();
        assert!(refused(share(&jws, &wrong, &first.resource)).contains("key"));
    }

    #[test]
    fn a_relay_address_must_be_this_shares_address_at_a_relay() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let sealed = seal(&inputs()[..1], grant(Grantee::Bearer), &key, Lock::Bearer).unwrap();
        let at = |url: &str| precheck(&sealed.link(Some(url), &key.verifying_key()), 2_000, None);
        for good in [
            "https://relay.example/v1/shares/g",
            "http://127.0.0.1:8080/v1/shares/g",
            "https://clinic.example/amanat/v1/shares/g",
        ] {
            assert_eq!(at(good), Ok(()), "{good}");
        }
        for bad in [
            "http://192.168.1.1/admin/reboot",
            "https://relay.example/v1/shares/other",
            "https://relay.example/v1/shares/g?then=1",
            "https://relay.example/v1/shares/g#x",
            "https://user:pw@relay.example/v1/shares/g",
            "https://relay.example/v1/shares/../g",
            "https://relay.example/x%2f/v1/shares/g",
            "file:///v1/shares/g",
            "ftp://relay.example/v1/shares/g",
            "https:///v1/shares/g",
        ] {
            assert_eq!(at(bad), Err(ShareError::RelayAddress { id: "g".into() }), "{bad}");
        }
    }
}
